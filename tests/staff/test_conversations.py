"""The reviewer's pages: order, filters, search, pages, transcript, review, notes, exports, audit.

Queries run on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from bot.store.records import transcript_records
from bot.store.spool import Spool

from .conftest import ADMIN, csrf_from, login
from .seed import SCRIPT_MESSAGE


def listed(page: str):
    """The conversation ids on a list page, in order."""
    return [int(i) for i in re.findall(r'href="/conversations/(\d+)"', page)]


def signed_in(app):
    client = app.test_client()
    login(client, *ADMIN)
    return client


def ids_of(app, *names):
    return [app.config["SEEDED"][name] for name in names]


def test_unreviewed_emergencies_come_first_then_newest_first_across_pages(app_on_each_database):
    app = app_on_each_database
    client = signed_in(app)
    first = client.get("/conversations").get_data(as_text=True)
    second = client.get("/conversations?page=2").get_data(as_text=True)
    assert listed(first) == ids_of(app, "emergency", "doctor", "self_care")
    assert listed(second) == ids_of(app, "undecided", "old_emergency_reviewed")
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert first.count('class="flagged"') == 1  # the reviewed emergency is no longer flagged


def test_filters_by_level_date_channel_and_review(app_on_each_database):
    app = app_on_each_database
    client = signed_in(app)

    def ids(query):
        return listed(client.get("/conversations?" + query).get_data(as_text=True))

    assert ids("level=emergency") == ids_of(app, "emergency", "old_emergency_reviewed")
    assert ids("level=none") == ids_of(app, "undecided")
    assert ids("from=2024-03-02&to=2024-03-03") == ids_of(app, "self_care", "undecided")
    assert ids("to=2024-03-01") == ids_of(app, "emergency", "old_emergency_reviewed")
    assert ids("channel=socketio") == ids_of(app, "doctor")
    assert ids("reviewed=yes") == ids_of(app, "old_emergency_reviewed")
    assert ids("level=emergency&reviewed=no") == ids_of(app, "emergency")


def test_search_finds_words_people_wrote_in_any_case_and_sender_prefixes(app_on_each_database):
    app = app_on_each_database
    client = signed_in(app)

    def ids(query):
        return listed(client.get("/conversations?q=" + query).get_data(as_text=True))

    assert ids("DIABETIC") == ids_of(app, "doctor")
    assert ids("fell+BACK") == ids_of(app, "old_emergency_reviewed")  # every word, anywhere in the messages
    assert ids("bladder") == ids_of(app, "emergency")
    assert ids("b2c3d4e5") == ids_of(app, "doctor")
    assert ids("100%25") == []  # % is a character to find, not a wildcard
    assert "No conversation matches" in client.get("/conversations?q=zebra").get_data(as_text=True)


def test_a_bad_filter_value_is_named_not_a_crash(app):
    page = signed_in(app).get("/conversations?from=yesterday&level=urgent")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Filter ignored" in text and "yesterday" in text and "urgent" in text


def test_the_transcript_shows_bubbles_decisions_sources_and_red_flags_and_escapes_what_people_wrote(app):
    client = signed_in(app)
    (conversation_id,) = ids_of(app, "emergency")
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert page.count('class="bubble user"') == 3 and page.count('class="bubble bot"') == 3
    assert "&lt;script&gt;document.body.innerHTML=&#39;hacked&#39;&lt;/script&gt;" in page
    assert SCRIPT_MESSAGE not in page
    assert 'class="decision level-emergency"' in page
    assert "loss of bladder and/or bowel control" in page and "001_cause.txt" in page and "002_leg_numbness.txt" in page
    assert page.count('class="red-flag-reason"') == 2 and "Red flags in this conversation" in page
    assert "rulebook 2024.1" in page and "intent <code>greet</code> (0.98)" in page


def test_marking_reviewed_and_adding_a_note_record_who_and_when_and_are_audited(app, clock):
    client = signed_in(app)
    (conversation_id,) = ids_of(app, "emergency")
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    token = csrf_from(page)
    client.post(f"/conversations/{conversation_id}/review", data={"csrf_token": token})
    clock.advance(minutes=5)
    client.post(f"/conversations/{conversation_id}/notes", data={"csrf_token": token, "text": "Called back <b>ok</b>"})
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert "Reviewed by ann" in page and "2024-03-10 12:00" in page
    assert "ann · <time" in page and "2024-03-10 12:05" in page and "Called back &lt;b&gt;ok&lt;/b&gt;" in page
    listing = client.get("/conversations").get_data(as_text=True)
    assert 'class="flagged"' not in listing  # reviewed: no longer held at the top
    audit = client.get("/admin/audit").get_data(as_text=True)
    for action in ("reviewed", "note added", "viewed"):
        assert f">{action}</span>" in audit


def test_export_one_conversation_as_json_and_csv(app):
    client = signed_in(app)
    (conversation_id,) = ids_of(app, "emergency")
    response = client.get(f"/conversations/{conversation_id}/export.json")
    assert response.headers["Content-Disposition"] == f'attachment; filename="conversation-{conversation_id}.json"'
    (conversation,) = response.get_json()["conversations"]
    assert set(conversation) == {"id", "channel", "sender", "started_at", "triage_level", "summary", "messages"}
    assert conversation["triage_level"] == "emergency" and conversation["started_at"] == "2024-03-01T09:00:00.001Z"
    assert [m["speaker"] for m in conversation["messages"]] == ["user", "bot"] * 3
    assert conversation["messages"][2] == {"at": "2024-03-01T09:00:03.000Z", "speaker": "user", "text": SCRIPT_MESSAGE}
    rows = list(csv.DictReader(io.StringIO(client.get(f"/conversations/{conversation_id}/export.csv").get_data(as_text=True))))
    assert len(rows) == 6 and rows[-1]["decision_level"] == "emergency"
    assert rows[-1]["decision_rules"] == "emergency.bladder_bowel_loss" and rows[0]["intent"] == "greet"


def test_export_of_a_filtered_set_follows_the_filters_and_is_audited(app_on_each_database):
    app = app_on_each_database
    client = signed_in(app)
    exported = client.get("/conversations/export.json?level=emergency").get_json()["conversations"]
    assert [c["id"] for c in exported] == ids_of(app, "emergency", "old_emergency_reviewed")
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "2 conversation(s)" in audit and '"filters": {"level": "emergency"}' in audit


def test_spreadsheet_formulas_people_typed_are_exported_as_text(app):
    from bot.staff.export import _cell

    assert _cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert _cell("my leg") == "my leg"


def test_a_missing_conversation_is_a_404_page(app):
    response = signed_in(app).get("/conversations/999999")
    assert response.status_code == 404 and "no such conversation" in response.get_data(as_text=True)


def test_health_and_the_banner_report_transcripts_waiting_for_the_database(app):
    client = signed_in(app)
    assert client.get("/health").status_code == 200
    settings = app.extensions["staff"].settings
    Spool(settings.transcript_spool).append(
        transcript_records("p", [{"event": "user", "timestamp": 1.0, "text": "waiting"}], 0)
    )
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json()["waiting"] == 1
    page = client.get("/conversations").get_data(as_text=True)
    assert "Transcripts are not reaching the database" in page and "1 message(s) are waiting" in page
    assert json.dumps(health.get_json())  # JSON all through: for a monitor to read


@pytest.mark.parametrize("conversation_id", ["99999999999999999999999", str(2**63), "0", "-1"])
@pytest.mark.parametrize("method, route", [
    ("get", "/conversations/{}"), ("get", "/conversations/{}/export.json"), ("get", "/conversations/{}/export.csv"),
    ("post", "/conversations/{}/review"), ("post", "/conversations/{}/notes"),
])
def test_an_id_no_conversation_can_have_is_a_404_page_on_every_route(app_on_each_database, method, route, conversation_id):
    client = signed_in(app_on_each_database)
    token = csrf_from(client.get("/conversations").get_data(as_text=True))
    response = getattr(client, method)(route.format(conversation_id), data={"csrf_token": token, "text": "a note"})
    assert response.status_code == 404 and "<h1>Not found</h1>" in response.get_data(as_text=True)
