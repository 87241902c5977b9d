"""The engine and the session factory of the transcript database. Nothing connects until used."""
from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

# How long a connection attempt may block a conversation when PostgreSQL is unreachable.
CONNECT_TIMEOUT_S = 3
# How long SQLite waits for another process's write lock (the Rasa server and the staff app share the file).
SQLITE_BUSY_TIMEOUT_S = 15


def make_engine(url: str) -> Engine:
    """An engine for `url` (SQLite or PostgreSQL), in SQLAlchemy 2.0 style.

    hide_parameters keeps message texts out of error messages and so out of the logs.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # A connection per use: when the file goes away, the next use fails instead of
            # writing on through a handle to a file nobody can see any more.
            engine = create_engine(
                url, future=True, hide_parameters=True, poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            )
        else:
            engine = create_engine(url, future=True, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, future=True, hide_parameters=True, pool_pre_ping=True,  # pre-ping: survive a database restart
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores ON DELETE CASCADE without it
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the staff app) do not block the writer
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextlib.contextmanager
def transaction(factory: sessionmaker) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise."""
    with factory() as session:
        with session.begin():
            yield session
