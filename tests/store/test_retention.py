"""Purge by age and erasure of one person reach our tables, the spool and Rasa's events, and are audited."""
from __future__ import annotations

import asyncio
import threading
import time

from sqlalchemy import func, select, text

from bot.store import retention
from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.models import AuditEntry, Conversation, Message
from bot.store.records import pseudonym, transcript_records
from bot.store.retention import erase, purge
from bot.store.transcripts import store_records
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


def _old_conversations(settings, count):
    engine = make_engine(settings.transcripts_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            for number in range(count):
                start = OLD + 60 * number
                events = [{"event": "session_started", "timestamp": start},
                          {"event": "user", "timestamp": start + 1, "text": f"old numb leg {number}", "input_channel": "rest"},
                          {"event": "bot", "timestamp": start + 2, "text": "Since when?"}]
                store_records(session, transcript_records(f"old-{number}", events, 0))
    finally:
        engine.dispose()


def test_a_purge_deletes_in_short_batches_while_a_writer_keeps_writing(settings, monkeypatch, record_property):
    """The writer commits between the purge's batches (it sees part of the old rows gone, which one
    transaction would never show); its longest wait is recorded. Speed figures: `make bench-staff`."""
    old = 400
    _old_conversations(settings, old)
    monkeypatch.setattr(retention, "FIRST_BATCH", 10)
    monkeypatch.setattr(retention, "MAX_BATCH", 10)  # 40 batches at least
    engine = make_engine(settings.transcripts_url)
    sessions = make_session_factory(engine)
    purging, finished = threading.Event(), threading.Event()
    waits, seen_left = [], []

    def write():
        number = 0
        while not finished.is_set():
            number += 1
            events = [{"event": "session_started", "timestamp": RECENT},
                      {"event": "user", "timestamp": RECENT + number, "text": f"my foot is numb {number}"}]
            began = time.perf_counter()
            with transaction(sessions) as session:
                store_records(session, transcript_records("writer", events, 1))
            waits.append(time.perf_counter() - began)
            if purging.is_set():
                with sessions() as session:
                    seen_left.append(session.scalar(select(func.count()).select_from(Conversation)
                                                    .where(Conversation.sender.like("old-%"))))
            time.sleep(0.005)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.1)
        purging.set()
        deleted = purge(sessions, settings, days=30, actor="cli:test")
    finally:
        finished.set()
        writer.join()
    longest_ms = round(1000 * max(waits), 1)
    record_property("writer_longest_wait_ms", longest_ms)
    print(f"longest writer wait during the purge: {longest_ms} ms")
    assert deleted.conversations == old
    assert any(0 < left < old for left in seen_left), seen_left  # it wrote between batches
    assert longest_ms < 5000  # generous: SQLite's busy timeout is 15 s, one batch takes milliseconds
    with sessions() as session:
        (writer_conversation,) = session.scalars(select(Conversation)).all()
        assert len(writer_conversation.messages) == len(waits)
        # The search index followed: one document left, the writer's.
        assert session.scalar(text("SELECT count(*) FROM transcript_search")) == 1
    engine.dispose()
