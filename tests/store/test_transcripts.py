"""Records -> rows: conversations per session, the most urgent level, and emergencies after a review."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.models import Conversation, utcnow
from bot.store.records import transcript_records
from bot.store.transcripts import more_urgent, store_records

from .events import DOCTOR_TRIAGE, EMERGENCY_TRIAGE, SELF_CARE_TRIAGE, bot, session_start, user

T0 = 1_700_000_000.0


def write(url, events, first_new=0, sender="p1"):
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            return store_records(session, transcript_records(sender, events, first_new))
    finally:
        engine.dispose()


def conversations(url):
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            query = select(Conversation).order_by(Conversation.id).options(selectinload(Conversation.messages))
            return session.scalars(query).all()
    finally:
        engine.dispose()


def test_the_conversation_keeps_the_most_urgent_level_it_reached(database):
    events = [*session_start(T0), user(T0 + 1, "a"), bot(T0 + 2, "b", EMERGENCY_TRIAGE),
              user(T0 + 3, "c"), bot(T0 + 4, "d", DOCTOR_TRIAGE)]
    assert write(database.url, events) == 4
    (conversation,) = conversations(database.url)
    assert (conversation.triage_level, conversation.emergency) == ("emergency", True)


def test_each_session_is_its_own_conversation_and_senders_are_kept_apart(database):
    write(database.url, [*session_start(T0), user(T0 + 1, "a"), bot(T0 + 2, "b", SELF_CARE_TRIAGE)])
    write(database.url, [*session_start(T0 + 9000), user(T0 + 9001, "again")])
    write(database.url, [*session_start(T0), user(T0 + 1, "a")], sender="p2")
    found = [(c.sender, c.triage_level, len(c.messages)) for c in conversations(database.url)]
    assert found == [("p1", "self_care", 2), ("p1", None, 1), ("p2", None, 1)]


def test_an_emergency_after_a_review_puts_the_conversation_back_to_be_reviewed(database):
    first = [*session_start(T0), user(T0 + 1, "numb"), bot(T0 + 2, "see a doctor", DOCTOR_TRIAGE)]
    write(database.url, first)
    engine = make_engine(database.url)
    with transaction(make_session_factory(engine)) as session:
        conversation = session.scalars(select(Conversation)).one()
        conversation.reviewed_at, conversation.reviewed_by = utcnow(), "ann"
    engine.dispose()
    later = [*first, user(T0 + 3, "now I can't walk"), bot(T0 + 4, "EMERGENCY", EMERGENCY_TRIAGE)]
    write(database.url, later, first_new=len(first))
    (conversation,) = conversations(database.url)
    assert conversation.reviewed_at is None and conversation.emergency


def test_urgency_order_follows_the_rulebook_levels():
    assert more_urgent("emergency", "doctor") and more_urgent("doctor", "self_care")
    assert more_urgent("self_care", None) and not more_urgent("self_care", "doctor")


def test_a_spool_larger_than_one_query_of_keys_is_stored_once_and_replayed_harmlessly(database):
    """After a long outage the spool holds thousands of records: the keys already stored are
    looked up KEYS_PER_QUERY at a time, and a replay adds nothing."""
    from bot.store.transcripts import KEYS_PER_QUERY

    events = session_start(T0) + [user(T0 + 1 + i, f"message {i}") for i in range(2 * KEYS_PER_QUERY + 100)]
    assert write(database.url, events) == 2 * KEYS_PER_QUERY + 100
    assert write(database.url, events) == 0
    half_new = events + [bot(T0 + 5000 + i, f"reply {i}") for i in range(KEYS_PER_QUERY)]
    assert write(database.url, half_new) == KEYS_PER_QUERY
    (conversation,) = conversations(database.url)
    assert len(conversation.messages) == 3 * KEYS_PER_QUERY + 100
