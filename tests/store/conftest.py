"""Fixtures for the transcript store tests: a migrated database of each kind, settings around it."""
from __future__ import annotations

import os

import pytest

# Rasa 3.6 declares its own table in the SQLAlchemy 1.x style; its warning says nothing about our code.
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bot.settings import Settings
from bot.store.migrate import upgrade_to_head

from .databases import DATABASE_KINDS, PostgresServer, TestDatabase, require_postgres

TEST_PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdef"


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer(require_postgres()).initialise()
    yield server
    server.destroy()


def make_test_database(request, tmp_path) -> TestDatabase:
    if request.param == "sqlite":
        return TestDatabase.sqlite(tmp_path)
    server = request.getfixturevalue("postgres_server")
    database = TestDatabase("postgresql", server.create_database(), server=server)
    request.addfinalizer(lambda: server.drop_database(database.url))
    return database


@pytest.fixture(params=DATABASE_KINDS)
def database(request, tmp_path) -> TestDatabase:
    """An empty, migrated transcript database: SQLite, then PostgreSQL."""
    test_database = make_test_database(request, tmp_path)
    upgrade_to_head(test_database.url)
    return test_database


@pytest.fixture
def settings(database, tmp_path) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Settings(
        data_dir=data_dir,
        tracker_db=data_dir / "tracker.db",
        database_url=database.url,
        pseudonym_key=TEST_PSEUDONYM_KEY,
    )
