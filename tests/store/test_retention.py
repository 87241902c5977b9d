"""Purge by age and erasure of one person reach our tables, the spool and Rasa's events, and are audited."""
from __future__ import annotations

import asyncio
import time

from sqlalchemy import select, text

from bot.store.database import make_engine, make_session_factory
from bot.store.models import AuditEntry, Conversation, Message
from bot.store.records import pseudonym, transcript_records
from bot.store.retention import erase, purge
from bot.store.spool import Spool
from bot.store.tracker_store import TranscriptTrackerStore

from .test_tracker_store import assistant_says, new_tracker, person_says

OLD = 1_600_000_000.0  # 2020
RECENT = time.time() - 3600


def converse(store, sender_id, start):
    tracker = new_tracker(start)
    tracker.sender_id = sender_id
    person_says(tracker, start + 1, f"{sender_id}: my leg is numb")
    assistant_says(tracker, start + 2, "Since when?")
    asyncio.run(store.save(tracker))


def contents(settings):
    engine = make_engine(settings.transcripts_url)
    tracker = make_engine(f"sqlite:///{settings.tracker_db}")
    try:
        with make_session_factory(engine)() as session:
            senders = sorted(session.scalars(select(Conversation.sender)).all())
            messages = len(session.scalars(select(Message.id)).all())
            audit = [(a.actor, a.action, a.target, a.detail) for a in session.scalars(select(AuditEntry)).all()]
        with tracker.connect() as connection:
            tracked = sorted({row[0] for row in connection.execute(text("select sender_id from events"))})
        return senders, messages, audit, tracked
    finally:
        engine.dispose()
        tracker.dispose()


def three_conversations(settings):
    store = TranscriptTrackerStore(settings=settings, db=str(settings.tracker_db), retry_interval_s=0)
    converse(store, "old-sender", OLD)
    converse(store, "new-sender", RECENT)
    converse(store, "other-sender", RECENT)
    store.close()
    return make_session_factory(make_engine(settings.transcripts_url))


def test_purge_removes_only_what_is_older_than_the_retention_period(settings):
    sessions = three_conversations(settings)
    deleted = purge(sessions, settings, days=30, actor="cli:test")
    assert (deleted.conversations, deleted.tracker_events) == (1, 5)
    senders, messages, audit, tracked = contents(settings)
    key = settings.pseudonym_key
    assert senders == sorted([pseudonym(key, "new-sender"), pseudonym(key, "other-sender")])
    assert messages == 4 and tracked == ["new-sender", "other-sender"]
    ((actor, action, target, detail),) = audit
    assert (actor, action, target, detail["reason"]) == ("cli:test", "deleted", "1 conversation(s) older than 30 days", "retention")


def test_erase_removes_one_persons_data_everywhere_including_records_still_waiting(settings):
    sessions = three_conversations(settings)
    waiting = transcript_records(pseudonym(settings.pseudonym_key, "new-sender"), [
        {"event": "user", "timestamp": RECENT + 10, "text": "still waiting", "input_channel": "rest"}], 0)
    Spool(settings.transcript_spool).append(waiting)
    deleted = erase(sessions, settings, "new-sender", actor="cli:test")
    assert (deleted.conversations, deleted.spooled, deleted.tracker_events) == (1, 1, 5)
    senders, _messages, audit, tracked = contents(settings)
    assert pseudonym(settings.pseudonym_key, "new-sender") not in senders and len(senders) == 2
    assert tracked == ["old-sender", "other-sender"]
    assert audit[0][1:3] == ("deleted", f"sender {pseudonym(settings.pseudonym_key, 'new-sender')[:12]}")
    assert audit[0][3]["reason"] == "erasure"


def test_erase_by_the_pseudonym_staff_see(settings):
    sessions = three_conversations(settings)
    alias = pseudonym(settings.pseudonym_key, "other-sender")
    deleted = erase(sessions, settings, alias, actor="cli:test", is_pseudonym=True)
    assert deleted.conversations == 1 and alias not in contents(settings)[0]
