"""The transcript opens with the symptom picture in the person's words, each item linked to the
message it came from; the exports carry it. The conversation is played through the real planner."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

from sqlalchemy import select

from bot.dialogue.conversation import Conversation as Planner, Turn
from bot.dialogue.picture import Picture
from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.models import Conversation
from bot.store.records import transcript_records
from bot.store.transcripts import store_records

from ..store.events import bot, session_start, user

SENDER = "1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e"
SAID = [("my left calf has been numb for three weeks, worse when I sit", "describe_symptoms"),
        ("no, none of those", "deny"), ("I'm diabetic", "describe_symptoms")]


def stored_conversation(app, service):
    planner, picture, asked = Planner(service, "911"), Picture(), None
    start = dt.datetime(2024, 3, 7, 9, tzinfo=dt.timezone.utc).timestamp()
    events, clock = [*session_start(start)], start
    for text, intent in SAID:
        plan = planner.plan(Turn(text, intent, asked), picture)
        picture, asked = plan.picture, plan.asked
        clock += 1
        events.append(user(clock, text))
        for reply in plan.replies:
            clock += 1
            events.append(bot(clock, reply.text, (reply.payload or {}).get("triage")))
    engine = make_engine(app.extensions["staff"].settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            store_records(session, transcript_records(SENDER, events, 0))
        with transaction(make_session_factory(engine)) as session:
            conversation = session.scalar(select(Conversation).where(Conversation.sender == SENDER))
            return conversation.id, conversation.summary
    finally:
        engine.dispose()


def test_the_transcript_opens_with_the_picture_linked_to_its_messages(app, reviewer_client, service):
    conversation_id, summary = stored_conversation(app, service)
    by_question = {(item["question"], item["text"]) for item in summary}
    assert {("side", "left"), ("location", "calf"), ("duration", "three weeks"), ("conditions", "diabetic"),
            ("emergency_signs", "no, none of those")} <= by_question
    page = reviewer_client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    picture = page[page.index('id="picture-heading"'):page.index('aria-label="Transcript"')]
    links = dict(re.findall(r'<span class="picture-heading">([^<]+):</span>\s*<a href="#message-(\d+)">', picture))
    assert {"side", "location", "duration", "conditions", "emergency signs"} <= set(links)
    assert links["side"] == links["location"] == links["duration"]  # all three in the first message
    assert links["conditions"] != links["side"] and links["emergency signs"] not in (links["side"], links["conditions"])
    for message_id in links.values():
        assert f'id="message-{message_id}"' in page
    first_message = page[page.index(f'id="message-{links["side"]}"'):]
    assert "my left calf has been numb" in first_message[:2000]
    assert "emergency signs present" not in picture  # none were described


def test_the_exports_carry_the_picture(app, reviewer_client, service):
    conversation_id, summary = stored_conversation(app, service)
    exported = json.loads(reviewer_client.get(f"/conversations/{conversation_id}/export.json").get_data(as_text=True))
    assert exported["conversations"][0]["summary"] == summary
    rows = list(csv.DictReader(io.StringIO(reviewer_client.get(f"/conversations/{conversation_id}/export.csv").get_data(as_text=True))))
    assert rows and all(row["summary"] == rows[0]["summary"] for row in rows)
    assert "side: left" in rows[0]["summary"] and "conditions: diabetic" in rows[0]["summary"]
