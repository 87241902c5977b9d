"""Fixtures for the staff app: a seeded database of each kind, accounts, and the app with its own clock."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from argon2 import PasswordHasher, profiles

from bot.settings import Settings
from bot.staff import accounts, create_app
from bot.staff.accounts import add_user
from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.migrate import upgrade_to_head

from ..store.conftest import TEST_PSEUDONYM_KEY, database, postgres_server  # noqa: F401 - fixtures used here
from ..store.databases import TestDatabase
from .seed import seed

ADMIN, REVIEWER = ("ann", "ann's long password"), ("rob", "rob's long password")
STAFF_SECRET = "test-staff-secret-key-0123456789"


@pytest.fixture
def sqlite_database(tmp_path) -> TestDatabase:
    """For tests about the app itself rather than about queries: SQLite only."""
    test_database = TestDatabase.sqlite(tmp_path)
    upgrade_to_head(test_database.url)
    return test_database


def settings_for(test_database: TestDatabase, data_dir) -> Settings:
    data_dir.mkdir(exist_ok=True)
    return Settings(
        data_dir=data_dir, tracker_db=data_dir / "tracker.db", database_url=test_database.url,
        pseudonym_key=TEST_PSEUDONYM_KEY, staff_secret_key=STAFF_SECRET,
        staff_max_failed_logins=3, staff_lockout_minutes=15, staff_session_minutes=30,
    )


def with_accounts(url: str) -> None:
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        add_user(session, ADMIN[0], "admin", ADMIN[1])
        add_user(session, REVIEWER[0], "reviewer", REVIEWER[1])
    engine.dispose()


class Clock:
    """The app's idea of now (naive UTC), which a test moves on instead of waiting."""

    def __init__(self):
        self.now = dt.datetime(2024, 3, 10, 12, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def quick_hashing(monkeypatch):
    """Still argon2id, with the smallest cost: the production cost is tested in test_accounts.py."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


def _app(test_database, tmp_path, clock):
    settings = settings_for(test_database, tmp_path / "data")
    ids = seed(test_database.url)
    with_accounts(test_database.url)
    app = create_app(settings, clock=clock, page_size=3)
    app.config["SEEDED"] = ids
    return app


@pytest.fixture
def app(sqlite_database, tmp_path, clock, quick_hashing):
    return _app(sqlite_database, tmp_path, clock)


@pytest.fixture
def app_on_each_database(database, tmp_path, clock, quick_hashing):  # noqa: F811 - the imported fixture
    return _app(database, tmp_path, clock)


def csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, name: str, password: str):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


@pytest.fixture
def admin_client(app):
    client = app.test_client()
    assert login(client, *ADMIN).status_code == 302
    return client


@pytest.fixture
def reviewer_client(app):
    client = app.test_client()
    assert login(client, *REVIEWER).status_code == 302
    return client
