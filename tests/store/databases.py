"""Real databases for the tests: SQLite files, and a PostgreSQL server of our own on loopback
(devtools.devservers starts it: the Debian package's programs, in a temporary directory, on a free port)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import List, Optional

import pytest

# The server launchers live in devtools.devservers, so the benchmark can start the same servers.
from devtools.devservers import PostgresServer, free_port, postgres_bin_dir, redis_server_program

__all__ = ["IN_CI", "PostgresServer", "TestDatabase", "free_port", "require_postgres", "require_redis", "DATABASE_KINDS"]

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(program: Optional[Path], package: str) -> Path:
    """A program from a Debian package; in CI its absence fails the run instead of skipping tests."""
    if program is None:
        message = f"{package} is not installed (`make system-deps` installs it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return program


def require_postgres() -> Path:
    return require(postgres_bin_dir(), "postgresql")


def require_redis() -> Path:
    return require(redis_server_program(), "redis-server")


class TestDatabase:
    """One empty database of either kind, which a test can take away and bring back."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, kind: str, url: str, server: Optional[PostgresServer] = None, folder: Optional[Path] = None):
        self.kind, self.url, self.server, self.folder = kind, url, server, folder

    @classmethod
    def sqlite(cls, tmp_path: Path) -> "TestDatabase":
        folder = tmp_path / "database"
        folder.mkdir()
        return cls("sqlite", f"sqlite:///{folder / 'transcripts.db'}", folder=folder)

    def go_away(self) -> None:
        """The database becomes unreachable: the server stops, or the SQLite file's folder goes."""
        if self.server:
            self.server.stop()
        else:
            self.folder.rename(self.folder.with_name("database-away"))

    def come_back(self) -> None:
        if self.server:
            self.server.start()
        else:
            self.folder.with_name("database-away").rename(self.folder)


DATABASE_KINDS: List[str] = ["sqlite", "postgresql"]


def transcripts_written(data_dir: Path, timeout_s: float = 30.0) -> None:
    """Waits until the Rasa servers' writer threads have copied every waiting transcript record
    to the database (a reply does not wait for that). Returns after timeout_s regardless: a test
    of the database being down reads what is there."""
    from bot.store.spool import spools_in

    deadline = time.monotonic() + timeout_s
    while any(spool.count() for spool in spools_in(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)


def stored_conversations(settings, sender: str, pseudonym_key: Optional[str] = None) -> list:
    """The sender's transcripts, with their messages and decisions, once the writer has caught up."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from bot.store.database import make_engine, make_session_factory
    from bot.store.models import Conversation, Message
    from bot.store.records import pseudonym

    transcripts_written(settings.data_dir)
    engine = make_engine(settings.transcripts_url)
    try:
        with make_session_factory(engine)() as session:
            query = (
                select(Conversation)
                .where(Conversation.sender == pseudonym(pseudonym_key or settings.pseudonym_key, sender))
                .options(selectinload(Conversation.messages).selectinload(Message.decision))
            )
            return session.scalars(query).all()
    finally:
        engine.dispose()
