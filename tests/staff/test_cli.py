"""`python -m bot.staff`: accounts, the JSON export format, retention commands, and `serve` without a secret."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import select

from bot.settings import PROJECT_ROOT, Settings
from bot.staff.__main__ import main
from bot.staff.server import start_purge_schedule
from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.models import AuditEntry, Conversation, StaffUser
from bot.store.records import pseudonym, transcript_records
from bot.store.transcripts import store_records

from ..store.conftest import TEST_PSEUDONYM_KEY
from ..store.events import session_start, user
from .seed import seed


@pytest.fixture
def env(sqlite_database, tmp_path, monkeypatch):
    """The environment of a person running the commands against the test database."""
    values = {
        "TRIAGE_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": sqlite_database.url,
        "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STAFF_SECRET_KEY", raising=False)
    return {**os.environ, **values, "PYTHONPATH": str(PROJECT_ROOT)}


def run(env, *args, stdin=""):
    return subprocess.run([sys.executable, "-m", "bot.staff", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=PROJECT_ROOT, timeout=120)


def rows(url, model):
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalars(select(model).order_by(model.id)).all()
    finally:
        engine.dispose()


def test_add_user_reads_the_password_from_stdin_and_stores_only_a_hash(env, sqlite_database):
    done = run(env, "add-user", "carol", "--role", "reviewer", "--password-stdin", stdin="carol's long password\n")
    assert done.returncode == 0 and "added reviewer carol" in done.stdout
    (carol,) = rows(sqlite_database.url, StaffUser)
    assert carol.role == "reviewer" and carol.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "carol's long password" not in carol.password_hash
    again = run(env, "add-user", "carol", "--role", "admin", "--password-stdin", stdin="another long password\n")
    assert again.returncode == 2 and "already an account named 'carol'" in again.stderr
    short = run(env, "add-user", "dave", "--role", "admin", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr


def test_export_prints_exactly_the_documented_json(env, sqlite_database):
    ids = seed(sqlite_database.url)
    done = run(env, "export", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert list(data) == ["conversations"] and len(data["conversations"]) == len(ids)
    for conversation in data["conversations"]:
        assert list(conversation) == ["id", "channel", "sender", "started_at", "triage_level", "summary", "messages"]
        for message in conversation["messages"]:
            assert list(message) == ["at", "speaker", "text"] and message["speaker"] in ("user", "bot")
    first = data["conversations"][0]
    assert (first["id"], first["triage_level"], first["channel"]) == (ids["emergency"], "emergency", "rest")
    assert first["messages"][0] == {"at": "2024-03-01T09:00:01.000Z", "speaker": "user", "text": "hi"}
    (entry,) = rows(sqlite_database.url, AuditEntry)
    assert entry.action == "exported" and entry.actor.startswith("cli:") and entry.detail["ids"] == [
        c["id"] for c in data["conversations"]]


def test_export_takes_the_same_filters_as_the_page(env, sqlite_database, capsys):
    ids = seed(sqlite_database.url)
    assert main(["export", "--format", "json", "--level", "doctor"]) == 0
    assert [c["id"] for c in json.loads(capsys.readouterr().out)["conversations"]] == [ids["doctor"]]
    assert main(["export", "--format", "csv", "--id", str(ids["self_care"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("conversation_id,channel,sender") and len(lines) == 3
    assert main(["export", "--from", "March 1st"]) == 2


def _conversation_of(url, sender_id, start):
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        events = [*session_start(start), user(start + 1, f"{sender_id} says my leg is numb")]
        store_records(session, transcript_records(pseudonym(TEST_PSEUDONYM_KEY, sender_id), events, 0))
    engine.dispose()


def test_purge_deletes_what_is_older_than_retention_days_and_is_audited(env, sqlite_database, monkeypatch, capsys):
    _conversation_of(sqlite_database.url, "long-ago", 1_500_000_000.0)
    _conversation_of(sqlite_database.url, "just-now", time.time())
    assert main(["purge"]) == 2  # RETENTION_DAYS unset: nothing is purged by accident
    monkeypatch.setenv("RETENTION_DAYS", "90")
    assert main(["purge"]) == 0
    assert "purged 1 conversation(s) older than 90 days" in capsys.readouterr().out
    assert [c.sender for c in rows(sqlite_database.url, Conversation)] == [pseudonym(TEST_PSEUDONYM_KEY, "just-now")]
    (entry,) = rows(sqlite_database.url, AuditEntry)
    assert (entry.action, entry.detail["reason"]) == ("deleted", "retention")


def test_erase_deletes_one_persons_conversations_by_their_sender_id(env, sqlite_database, capsys):
    _conversation_of(sqlite_database.url, "+15550001111", 1_700_000_000.0)
    _conversation_of(sqlite_database.url, "+15550002222", 1_700_000_000.0)
    assert main(["erase", "+15550001111"]) == 0
    assert "erased 1 conversation(s)" in capsys.readouterr().out
    assert [c.sender for c in rows(sqlite_database.url, Conversation)] == [pseudonym(TEST_PSEUDONYM_KEY, "+15550002222")]
    assert rows(sqlite_database.url, AuditEntry)[0].detail["reason"] == "erasure"


def test_serve_refuses_to_start_without_a_staff_secret_key(env):
    done = run(env, "serve")
    assert done.returncode == 2 and "STAFF_SECRET_KEY is not set" in done.stderr


def test_unlock_and_set_password_from_the_command_line(env, sqlite_database, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("erin's long password\n"))
    assert main(["add-user", "erin", "--role", "reviewer", "--password-stdin"]) == 0
    engine = make_engine(sqlite_database.url)
    with transaction(make_session_factory(engine)) as session:
        erin = session.scalar(select(StaffUser).where(StaffUser.name == "erin"))
        erin.failed_logins, erin.locked_until, old_hash = 2, dt.datetime(2999, 1, 1), erin.password_hash
    engine.dispose()
    assert main(["unlock", "erin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("erin's newer password\n"))
    assert main(["set-password", "erin", "--password-stdin"]) == 0
    (erin,) = rows(sqlite_database.url, StaffUser)
    assert (erin.failed_logins, erin.locked_until, erin.session_epoch) == (0, None, 1)
    assert erin.password_hash != old_hash
    assert main(["unlock", "nobody"]) == 2 and "no account named 'nobody'" in capsys.readouterr().err


def test_the_app_purges_on_its_schedule_when_configured(env, sqlite_database, tmp_path):
    _conversation_of(sqlite_database.url, "long-ago", 1_500_000_000.0)
    settings = Settings.from_env({**env, "RETENTION_DAYS": "30", "PURGE_EVERY_HOURS": "24"})
    stop = threading.Event()
    thread = start_purge_schedule(settings, stop)
    deadline = time.monotonic() + 60
    while not rows(sqlite_database.url, AuditEntry) and time.monotonic() < deadline:
        time.sleep(0.1)  # the first purge runs as the schedule starts
    stop.set()
    thread.join(timeout=30)
    assert rows(sqlite_database.url, Conversation) == []
    (entry,) = rows(sqlite_database.url, AuditEntry)
    assert (entry.actor, entry.action, entry.detail["reason"]) == ("schedule", "deleted", "retention")
