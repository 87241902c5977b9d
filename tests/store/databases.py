"""Real databases for the tests: SQLite files, and a PostgreSQL server of our own on loopback.

The PostgreSQL server is the Debian package's (initdb and pg_ctl from /usr/lib/postgresql/*/bin),
run in a temporary directory on a free port and stopped at the end. As root it runs as the
`postgres` user, because PostgreSQL refuses to run as root.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import List, Optional

import pytest
from sqlalchemy import create_engine, text

IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin_dir() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def require_postgres() -> Path:
    """The PostgreSQL programs; in CI their absence fails the run instead of skipping tests."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        message = "PostgreSQL is not installed (apt-get install postgresql; `make system-deps` does it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return bin_dir


class PostgresServer:
    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="triage-pg-"))
        self.data = self.root / "data"
        self.user = "triage"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.root, postgres.pw_uid, postgres.pw_gid)

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, cwd=self.root)

    def initialise(self) -> "PostgresServer":
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "--encoding=UTF8", "--no-locale", "--no-sync")
        return self.start()

    def start(self) -> "PostgresServer":
        # fsync off: these databases live for one test run.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{database}"

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT", future=True)
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def create_database(self) -> str:
        name = f"test_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


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
