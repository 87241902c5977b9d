"""Exports that stream: written while read, a batch at a time, in JSON, JSON Lines and CSV, from the page
and the command line; the audit entry keeps the filter, the count and a digest of the ids."""
from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from sqlalchemy import select

from bot.staff import export, queries
from bot.staff.__main__ import main
from bot.store.database import make_engine, make_session_factory
from bot.store.models import AuditEntry

from .conftest import ADMIN, login
from .seed import CONVERSATIONS
from .test_conversations import ids_of

IN_LIST_ORDER = ("emergency", "doctor", "self_care", "undecided", "old_emergency_reviewed")


def signed_in(app):
    client = app.test_client()
    login(client, *ADMIN)
    return client


def audit_entries(app):
    engine = make_engine(app.extensions["staff"].settings.transcripts_url)
    try:
        with make_session_factory(engine)() as session:
            return [(a.target, a.detail) for a in session.scalars(select(AuditEntry).where(AuditEntry.action == "exported"))]
    finally:
        engine.dispose()


def digest(ids):
    return hashlib.sha256("".join(f"{i}\n" for i in ids).encode()).hexdigest()


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(queries, "EXPORT_BATCH", 2)


def test_every_format_streams_the_whole_filtered_list_in_list_order(app_on_each_database, small_batches):
    app = app_on_each_database
    client = signed_in(app)
    response = client.get("/conversations/export.json")
    assert response.is_streamed and response.mimetype == "application/json"
    conversations = response.get_json()["conversations"]
    assert [c["id"] for c in conversations] == ids_of(app, *IN_LIST_ORDER)
    assert [list(c) for c in conversations] == [["id", "channel", "sender", "started_at", "triage_level", "summary", "messages"]] * 5
    assert [len(c["messages"]) for c in conversations] == [len(CONVERSATIONS[name][3](0)) for name in IN_LIST_ORDER]

    lines = client.get("/conversations/export.jsonl?level=emergency").get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in lines] == [c for c in conversations if c["triage_level"] == "emergency"]

    rows = list(csv.DictReader(io.StringIO(client.get("/conversations/export.csv").get_data(as_text=True))))
    assert len(rows) == sum(len(c["messages"]) for c in conversations)
    assert [r["text"] for r in rows] == [m["text"] if not m["text"].startswith("=") else "'" + m["text"]
                                         for c in conversations for m in c["messages"]]

    empty = client.get("/conversations/export.json?q=zebra").get_json()
    assert empty == {"conversations": []}


def test_the_export_is_written_a_batch_at_a_time_while_it_is_read(app, small_batches):
    client = signed_in(app)
    chunks = iter(client.get("/conversations/export.jsonl", buffered=False).response)
    first = next(chunks)
    assert [json.loads(line)["id"] for line in first.splitlines()] == ids_of(app, "emergency", "doctor")
    assert audit_entries(app) == []  # the audit entry comes when the stream ends
    rest = b"".join(chunks)
    assert len(rest.splitlines()) == 3


def test_the_audit_entry_keeps_the_filter_the_count_and_a_digest_not_every_id(app, small_batches, monkeypatch):
    monkeypatch.setattr(export, "IDS_KEPT", 2)
    client = signed_in(app)
    client.get("/conversations/export.json?level=emergency").get_data()
    client.get("/conversations/export.csv").get_data()
    ((target_small, small), (target_all, everything)) = audit_entries(app)
    emergencies = ids_of(app, "emergency", "old_emergency_reviewed")
    assert target_small == "2 conversation(s)"
    assert small == {"format": "json", "filters": {"level": "emergency"}, "count": 2, "ids_sha256": digest(emergencies),
                     "ids": emergencies}
    assert target_all == "5 conversation(s)" and "ids" not in everything
    assert everything["count"] == 5 and everything["ids_sha256"] == digest(ids_of(app, *IN_LIST_ORDER))


def test_a_download_cut_off_is_audited_with_what_was_sent(app, small_batches):
    client = signed_in(app)
    response = client.get("/conversations/export.jsonl", buffered=False)
    chunks = iter(response.response)
    next(chunks)
    response.close()  # the browser went away
    ((target, detail),) = audit_entries(app)
    assert target == "2 conversation(s)" and detail["complete"] is False and detail["count"] == 2


def test_one_conversation_exports_as_before(app):
    client = signed_in(app)
    (conversation_id,) = ids_of(app, "doctor")
    (conversation,) = client.get(f"/conversations/{conversation_id}/export.json").get_json()["conversations"]
    assert conversation["id"] == conversation_id and conversation["channel"] == "socketio"
    ((target, detail),) = audit_entries(app)
    assert target == f"conversation {conversation_id}" and detail["ids"] == [conversation_id]


def test_the_command_line_streams_json_lines_and_audits_a_digest(app, small_batches, monkeypatch, capsys):
    settings = app.extensions["staff"].settings
    for name, value in {"TRIAGE_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.transcripts_url,
                        "PSEUDONYM_KEY": settings.pseudonym_key}.items():
        monkeypatch.setenv(name, value)
    assert main(["export", "--format", "jsonl", "--reviewed", "no"]) == 0
    exported = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()]
    assert exported == ids_of(app, "emergency", "doctor", "self_care", "undecided")
    ((target, detail),) = audit_entries(app)
    assert target == "4 conversation(s)" and detail["ids_sha256"] == digest(exported)
    assert detail["filters"] == {"reviewed": "no"}
    assert main(["export", "--id", "999999"]) == 1
