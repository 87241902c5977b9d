"""Fixtures for the FHIR export: a SQLite database made by our migrations, seeded through the
transcript writer, read back through a connection that cannot write."""
from __future__ import annotations

import datetime as dt
import os

import pytest

# Rasa 3.6 declares its own table in the SQLAlchemy 1.x style; its warning says nothing about our code.
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from sqlalchemy import create_engine  # noqa: E402

from bot.fhir.bundle import export_context  # noqa: E402
from bot.store.database import make_session_factory  # noqa: E402
from bot.store.migrate import upgrade_to_head  # noqa: E402

from ..store.databases import TestDatabase  # noqa: E402
from .seed import seed  # noqa: E402

NOW = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def database(tmp_path) -> TestDatabase:
    test_database = TestDatabase.sqlite(tmp_path)
    upgrade_to_head(test_database.url)
    return test_database


@pytest.fixture
def seeded(database):
    return seed(database.url)


def read_only_engine(database: TestDatabase):
    """SQLite opened read-only: any write the export tried would fail."""
    path = database.folder / "transcripts.db"
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", future=True)


@pytest.fixture
def sessions(database, seeded):
    engine = read_only_engine(database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def session(sessions):
    with sessions() as session:
        yield session


@pytest.fixture(scope="session")
def context():
    return export_context()
