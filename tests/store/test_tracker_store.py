"""The Rasa tracker store writes complete transcripts, and loses nothing while the database is away.

Runs on SQLite and on PostgreSQL, with real Rasa trackers and events.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select, text

from bot.settings import SettingsError
from bot.store.database import make_engine, make_session_factory
from bot.store.health import transcript_health
from bot.store.models import Conversation, Message, TriageDecision
from bot.store.records import pseudonym
from bot.store.tracker_store import TranscriptTrackerStore

from .events import DOCTOR_TRIAGE, EMERGENCY_TRIAGE

SENDER = "+15551234567"  # a phone number, as some channels use: it must never reach our tables
T0 = 1_700_000_000.0


def make_store(settings, retry_interval_s: float = 0) -> TranscriptTrackerStore:
    return TranscriptTrackerStore(
        settings=settings, dialect="sqlite", db=str(settings.tracker_db), retry_interval_s=retry_interval_s
    )


def new_tracker(start: float = T0) -> DialogueStateTracker:
    tracker = DialogueStateTracker(SENDER, slots=[])
    for event in (ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start + 0.001),
                  ActionExecuted("action_listen", timestamp=start + 0.002)):
        tracker.update(event)
    return tracker


def person_says(tracker, at: float, words: str, intent: str = "describe_symptoms", confidence: float = 0.87) -> None:
    intent_data = {"name": intent, "confidence": confidence}
    tracker.update(UserUttered(words, intent=intent_data, parse_data={"intent": intent_data, "text": words},
                               input_channel="rest", timestamp=at))


def assistant_says(tracker, at: float, words: str, triage=None) -> None:
    tracker.update(BotUttered(words, data={"custom": {"triage": triage}} if triage else {}, timestamp=at))


def save(store, tracker) -> DialogueStateTracker:
    """Saves, then reads the tracker back, as Rasa does between two messages."""
    asyncio.run(store.save(tracker))
    return asyncio.run(store.retrieve(tracker.sender_id))


def stored_messages(url):
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(select(Message.speaker, Message.text, Message.at).order_by(Message.at, Message.id))
            return [(speaker, words) for speaker, words, _at in rows]
    finally:
        engine.dispose()


def test_a_conversation_is_stored_with_everything_staff_need(settings, database):
    store = make_store(settings)
    tracker = new_tracker()
    person_says(tracker, T0 + 1, "hello", intent="greet", confidence=0.99)
    assistant_says(tracker, T0 + 2, "Hello, I'm the leg-numbness triage assistant.")
    tracker = save(store, tracker)
    person_says(tracker, T0 + 3, "my left foot has been numb for three weeks and I'm diabetic")
    assistant_says(tracker, T0 + 4, "Please contact a doctor.", DOCTOR_TRIAGE)
    person_says(tracker, T0 + 5, "and now I can't control my bladder")
    assistant_says(tracker, T0 + 6, "EMERGENCY: call 911 now.", EMERGENCY_TRIAGE)
    tracker = save(store, tracker)
    store.close()

    engine = make_engine(database.url)
    with make_session_factory(engine)() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.sender == pseudonym(settings.pseudonym_key, SENDER)
        assert conversation.channel == "rest"
        assert conversation.started_at == dt.datetime(2023, 11, 14, 22, 13, 20, 1000)
        assert (conversation.triage_level, conversation.emergency) == ("emergency", True)
        assert conversation.red_flags == ["emergency.bladder_bowel_loss"]
        messages = conversation.messages
        assert [(m.speaker, m.text[:12]) for m in messages] == [
            ("user", "hello"), ("bot", "Hello, I'm t"), ("user", "my left foot"),
            ("bot", "Please conta"), ("user", "and now I ca"), ("bot", "EMERGENCY: c"),
        ]
        assert [m.at for m in messages] == [dt.datetime(2023, 11, 14, 22, 13, 20 + n) for n in range(1, 7)]
        assert [(m.intent, m.confidence) for m in messages if m.speaker == "user"] == [
            ("greet", 0.99), ("describe_symptoms", 0.87), ("describe_symptoms", 0.87)
        ]
        decisions = session.scalars(select(TriageDecision).order_by(TriageDecision.id)).all()
        assert [(d.level, d.rules, d.rulebook_version) for d in decisions] == [
            ("doctor", ["doctor.known_condition", "doctor.persistent"], "2024.1"),
            ("emergency", ["emergency.bladder_bowel_loss"], "2024.1"),
        ]
        assert decisions[1].sources == ["001_cause.txt", "002_leg_numbness.txt"]
        assert decisions[1].reasons == EMERGENCY_TRIAGE["reasons"]
        assert decisions[1].message.text == "EMERGENCY: call 911 now."
        # The raw sender id is nowhere in our tables; Rasa's own events table still has the conversation.
        assert session.scalar(select(func.count()).select_from(Conversation).where(Conversation.sender == SENDER)) == 0
    engine.dispose()
    tracker_engine = make_engine(f"sqlite:///{settings.tracker_db}")
    with tracker_engine.connect() as connection:
        kinds = [row[0] for row in connection.execute(text("select type_name from events where sender_id = :s"), {"s": SENDER})]
    tracker_engine.dispose()
    assert kinds.count("user") == 3 and kinds.count("bot") == 3


def test_the_database_going_away_mid_conversation_loses_nothing(settings, database, caplog):
    store = make_store(settings)
    tracker = new_tracker()
    person_says(tracker, T0 + 1, "my right leg feels numb")
    assistant_says(tracker, T0 + 2, "How long has it been numb?")
    tracker = save(store, tracker)

    database.go_away()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.store.writer"):
            person_says(tracker, T0 + 3, "about an hour")
            assistant_says(tracker, T0 + 4, "Does anything else feel different?")
            tracker = save(store, tracker)  # no exception: Rasa would fall back to memory and lose the rest
            person_says(tracker, T0 + 5, "I can't control my bladder")
            assistant_says(tracker, T0 + 6, "EMERGENCY: call 911 now.", EMERGENCY_TRIAGE)
            tracker = save(store, tracker)
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert errors and "transcript database unavailable" in errors[0].getMessage()
        assert "I can't control" not in caplog.text  # what people wrote stays out of the logs
        health = transcript_health(settings)
        assert (health["ok"], health["database"], health["waiting"]) == (False, "unavailable", 4)
        assert health["writer"]["database"] == "unavailable"
    finally:
        database.come_back()

    person_says(tracker, T0 + 7, "ok calling now")
    assistant_says(tracker, T0 + 8, "Please call 911 now.")
    tracker = save(store, tracker)
    store.close()
    assert stored_messages(database.url) == [
        ("user", "my right leg feels numb"), ("bot", "How long has it been numb?"),
        ("user", "about an hour"), ("bot", "Does anything else feel different?"),
        ("user", "I can't control my bladder"), ("bot", "EMERGENCY: call 911 now."),
        ("user", "ok calling now"), ("bot", "Please call 911 now."),
    ]
    health = transcript_health(settings)
    assert (health["ok"], health["waiting"], health["writer"]["database"]) == (True, 0, "ok")


def test_waiting_records_are_written_when_the_database_is_back_even_if_nobody_writes(settings, database):
    store = make_store(settings, retry_interval_s=0.2)
    tracker = new_tracker()
    database.go_away()
    try:
        person_says(tracker, T0 + 1, "my leg is numb")
        assistant_says(tracker, T0 + 2, "Since when?")
        tracker = save(store, tracker)
        assert store.writer.spool.count() == 2
    finally:
        database.come_back()
    deadline = time.monotonic() + 60
    while store.writer.spool.count() and time.monotonic() < deadline:
        time.sleep(0.1)  # the retry thread's turn; no new message arrives
    store.close()
    assert stored_messages(database.url) == [("user", "my leg is numb"), ("bot", "Since when?")]


def test_records_written_twice_are_stored_once(settings, database):
    store = make_store(settings)
    tracker = new_tracker()
    person_says(tracker, T0 + 1, "my leg is numb")
    assistant_says(tracker, T0 + 2, "Since when?")
    tracker = save(store, tracker)
    # A crash after the database committed but before the spool was emptied replays the records.
    lines = [json.dumps(r) for r in _records_as_written(settings, tracker)]
    store.writer.spool.path.write_text("\n".join(lines) + "\n")
    assert store.writer.flush()
    store.close()
    assert stored_messages(database.url) == [("user", "my leg is numb"), ("bot", "Since when?")]


def _records_as_written(settings, tracker):
    from bot.store.records import transcript_records

    sender = pseudonym(settings.pseudonym_key, tracker.sender_id)
    return [r.to_json() for r in transcript_records(sender, [e.as_dict() for e in tracker.events], 0)]


def test_a_record_the_database_refuses_is_set_aside_and_reported_and_the_rest_written(settings, database):
    store = make_store(settings)
    good, refused = _records_as_written(settings, _two_message_tracker())
    refused["triage"] = dict(EMERGENCY_TRIAGE, level=None)  # NOT NULL in the schema: no database accepts it
    store.writer.spool.path.write_text(json.dumps(good) + "\n" + json.dumps(refused) + "\n")
    assert store.writer.flush()
    store.close()
    assert stored_messages(database.url) == [("user", "my leg is numb")]
    health = transcript_health(settings)
    assert (health["ok"], health["waiting"], health["refused"]) == (False, 0, 1)


def _two_message_tracker():
    tracker = new_tracker()
    person_says(tracker, T0 + 1, "my leg is numb")
    assistant_says(tracker, T0 + 2, "Since when?")
    return tracker


def test_the_store_refuses_to_start_without_a_pseudonym_key(settings):
    with pytest.raises(SettingsError, match="PSEUDONYM_KEY"):
        TranscriptTrackerStore(settings=settings.__class__(data_dir=settings.data_dir), db=str(settings.tracker_db))


def test_the_writer_thread_copies_each_save_at_once_without_the_reply_waiting(settings, database):
    store = make_store(settings, retry_interval_s=3600)  # only request_flush can wake it in time
    try:
        tracker = new_tracker()
        person_says(tracker, T0 + 1, "my left foot is numb")
        assistant_says(tracker, T0 + 2, "Which leg is it?")
        save(store, tracker)
        deadline = time.monotonic() + 30
        while store.writer.spool.count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stored_messages(settings.transcripts_url) == [("user", "my left foot is numb"), ("bot", "Which leg is it?")]
    finally:
        store.close()


def test_a_tracker_the_database_cannot_take_is_an_error_rasa_survives_not_an_exit(settings):
    """Rasa's session_scope turned UnicodeEncodeError (a ValueError) into sys.exit: one request
    with a lone surrogate in its sender id stopped the Rasa server."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot.store.tracker_store import TrackerStoreError

    store = make_store(settings)
    try:
        with pytest.raises(TrackerStoreError):
            asyncio.run(store.retrieve("x\udc00"))
        fail_safe = FailSafeTrackerStore(store)
        assert asyncio.run(fail_safe.retrieve("x\udc00")) is None
        tracker = DialogueStateTracker("x\udc00", slots=[])
        person_says(tracker, T0, "my leg is numb")
        asyncio.run(fail_safe.save(tracker))  # kept in memory for this turn; the process goes on
        assert asyncio.run(store.exists(SENDER)) is False  # and the store still works
    finally:
        store.close()


def test_a_tracker_reads_back_as_rasa_reads_it(settings, database):
    """Our _retrieve reads only the events' JSON; the tracker is the one Rasa's own would build,
    slots included, and only the latest session's events come back."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet

    domain = Domain.from_dict({"slots": {"side": {"type": "list", "mappings": [{"type": "custom"}]}}})
    store = make_store(settings)
    store.domain = domain
    tracker = new_tracker()
    person_says(tracker, T0 + 1, "my left leg is numb")
    tracker.update(SlotSet("side", ["left_leg"], timestamp=T0 + 1.5))
    assistant_says(tracker, T0 + 2, "Since when?")
    asyncio.run(store.save(tracker))
    later = new_tracker(T0 + 100)  # a new session of the same sender
    person_says(later, T0 + 101, "hello again", intent="greet")
    asyncio.run(store.save(DialogueStateTracker.from_events(SENDER, [*tracker.events, *later.events], domain.slots)))
    rasa_store = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(settings.tracker_db))
    for all_sessions in (False, True):
        ours = asyncio.run(store._retrieve(SENDER, fetch_events_from_all_sessions=all_sessions))
        theirs = asyncio.run(rasa_store._retrieve(SENDER, fetch_events_from_all_sessions=all_sessions))
        assert list(ours.events) == list(theirs.events) and ours.current_slot_values() == theirs.current_slot_values()
    latest = asyncio.run(store.retrieve(SENDER))
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["hello again"]
    full = asyncio.run(store.retrieve_full_tracker(SENDER))
    assert full.get_slot("side") is None and [e.text for e in full.events if isinstance(e, UserUttered)] == [
        "my left leg is numb", "hello again"]
    assert asyncio.run(store._retrieve("nobody", fetch_events_from_all_sessions=False)) is None
    store.close()


def test_a_conversation_kept_between_messages_is_the_one_stored(settings, database):
    """retrieve() gives back the tracker saved last without rebuilding it, but only while the
    table holds exactly what it was saved as: another server's save, an erasure, a turn that
    failed after changing it, or a new session inside it make it read from the table again."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.store.tracker_events import delete_tracker_events

    domain = Domain.from_dict({"slots": {"side": {"type": "text", "mappings": [{"type": "custom"}]}}})
    store, other_server = make_store(settings), make_store(settings)
    store.domain = other_server.domain = domain
    rasa_store = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(settings.tracker_db))

    def as_rasa_reads_it(tracker):
        theirs = asyncio.run(rasa_store.retrieve(SENDER))
        return list(tracker.events) == list(theirs.events) and tracker.current_state() == theirs.current_state()

    try:
        first = new_tracker()
        asyncio.run(store.save(first))
        # not kept: its action_session_start comes before the session in the table, as in Rasa's
        # own trackers, so a load gives one event less
        tracker = asyncio.run(store.retrieve(SENDER))
        assert tracker is not first and len(tracker.events) == len(first.events) - 1
        person_says(tracker, T0 + 1, "my left leg is numb")
        asyncio.run(store.save(tracker))
        kept = asyncio.run(store.retrieve(SENDER))
        assert kept is tracker and as_rasa_reads_it(kept)
        # given out, it has left the cache: a second reader gets its own copy from the table
        second = asyncio.run(store.retrieve(SENDER))
        assert second is not kept and list(second.events) == list(kept.events)

        asyncio.run(store.save(kept))
        assistant_says(kept, T0 + 2, "Since when?")  # a turn that failed before it was saved
        again = asyncio.run(store.retrieve(SENDER))
        assert again is not kept and [e.text for e in again.events if isinstance(e, BotUttered)] == []

        asyncio.run(store.save(again))
        elsewhere = asyncio.run(other_server.retrieve(SENDER))  # another Rasa server takes a message
        person_says(elsewhere, T0 + 3, "it started this morning")
        asyncio.run(other_server.save(elsewhere))
        fresh = asyncio.run(store.retrieve(SENDER))
        assert fresh is not again and as_rasa_reads_it(fresh)
        assert [e.text for e in fresh.events if isinstance(e, UserUttered)][-1] == "it started this morning"

        asyncio.run(store.save(fresh))
        later = new_tracker(T0 + 100)  # a new session inside the tracker: a load gives that session only
        person_says(later, T0 + 101, "hello again", intent="greet")
        fresh.update_with_events(list(later.events), domain)
        asyncio.run(store.save(fresh))
        latest = asyncio.run(store.retrieve(SENDER))
        assert latest is not fresh and as_rasa_reads_it(latest)
        assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["hello again"]

        asyncio.run(store.save(latest))
        assert delete_tracker_events(settings.tracker_db, sender_id=SENDER) > 0  # erased
        assert asyncio.run(store.retrieve(SENDER)) is None
    finally:
        store.close()
        other_server.close()


def test_saved_rows_are_the_ones_rasa_writes_and_a_retrieved_tracker_is_not_counted_again(settings, database):
    """save() inserts the new events in one statement instead of Rasa's ORM objects: the rows are
    column for column those Rasa's own save writes. A tracker retrieve() gave out is saved with one
    query (the rows it was saved as), not with Rasa's count of the stored events first."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy import event

    domain = Domain.from_dict({})
    store = make_store(settings)
    store.domain = domain
    rasa_store = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(settings.tracker_db))

    def conversation(sender):
        tracker = DialogueStateTracker.from_events(sender, list(new_tracker().events))
        person_says(tracker, T0 + 1, "my left leg is numb")
        assistant_says(tracker, T0 + 2, "Since when?", triage=DOCTOR_TRIAGE)
        tracker.update(ActionExecuted("action_listen", timestamp=T0 + 3))
        return tracker

    def rows(sender):
        with store.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(
                text("SELECT type_name, timestamp, intent_name, action_name, data FROM events "
                     "WHERE sender_id = :sender ORDER BY id"), {"sender": sender})]

    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split()[0].upper())

    try:
        asyncio.run(store.save(conversation("ours")))
        asyncio.run(rasa_store.save(conversation("rasa")))
        assert rows("ours") == rows("rasa") and len(rows("ours")) == 6

        tracker = asyncio.run(store.retrieve("ours"))
        person_says(tracker, T0 + 4, "it started this morning")
        event.listen(store.engine, "before_cursor_execute", seen)
        asyncio.run(store.save(tracker))
        event.remove(store.engine, "before_cursor_execute", seen)
        assert statements == ["INSERT", "SELECT"]
        assert [json.loads(data)["event"] for *_, data in rows("ours")][-1] == "user"
        assert asyncio.run(store.retrieve("ours")) is tracker  # kept, as before
    finally:
        store.close()
