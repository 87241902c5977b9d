"""Staff see on the transcript a sign only one detector found, asked back to the person, and which
detector found each red flag: the payload the real conversation planner sends, stored and shown."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.dialogue.conversation import Conversation as Planner, Turn
from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.models import Conversation, TriageDecision
from bot.store.records import transcript_records
from bot.store.transcripts import store_records

from ..store.events import bot, session_start, user

SENDER = "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
TEXT = "my leg is numb and my lungs won't fill up"


def test_a_suspected_sign_is_stored_and_shown_with_the_detector_that_found_it(app, reviewer_client, service):
    reply = Planner(service, "911").plan(Turn(TEXT)).replies[-1]
    start = dt.datetime(2024, 3, 6, 9, tzinfo=dt.timezone.utc).timestamp()
    events = [*session_start(start), user(start + 1, TEXT), bot(start + 2, reply.text, reply.payload["triage"])]
    engine = make_engine(app.extensions["staff"].settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            store_records(session, transcript_records(SENDER, events, 0))
        with transaction(make_session_factory(engine)) as session:
            conversation_id = session.scalar(select(Conversation.id).where(Conversation.sender == SENDER))
            decision = session.scalar(select(TriageDecision).where(TriageDecision.conversation_id == conversation_id))
            assert decision.suspected == ["difficulty_breathing"] and decision.level != "emergency"
            assert [(f["concept"], f["detected_by"]) for f in decision.findings] == [("difficulty_breathing", ["embedding"])]
    finally:
        engine.dispose()
    page = reviewer_client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert "suspected sign" in page and "difficulty breathing" in page
    assert "found by embedding" in page and "Are you having trouble breathing right now?" in page

