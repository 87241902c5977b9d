"""Conversations for the staff app tests, written the way the Rasa server writes them (records -> rows)."""
from __future__ import annotations

import datetime as dt
from typing import Dict

from sqlalchemy import select

from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.models import Conversation
from bot.store.records import transcript_records
from bot.store.transcripts import store_records

from ..store.events import DOCTOR_TRIAGE, EMERGENCY_TRIAGE, SELF_CARE_TRIAGE, bot, session_start, user

SCRIPT_MESSAGE = "<script>document.body.innerHTML='hacked'</script> my leg is numb"


def _at(day: int, hour: int = 9) -> float:
    return dt.datetime(2024, 3, day, hour, tzinfo=dt.timezone.utc).timestamp()


CONVERSATIONS = {
    # name: (sender pseudonym, start, channel, events after the session start)
    "emergency": ("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", _at(1), "rest", lambda t: [
        user(t + 1, "hi", intent="greet", confidence=0.98),
        bot(t + 2, "Hello, I'm the leg-numbness triage assistant. In an emergency call 911."),
        user(t + 3, SCRIPT_MESSAGE),
        bot(t + 4, "How long has it been numb?"),
        user(t + 5, "about an hour, and now I can't control my bladder", confidence=0.83),
        bot(t + 6, "EMERGENCY: call 911 now, or go to the nearest emergency department. "
                   "Do not wait to see if it passes, and do not drive yourself.", EMERGENCY_TRIAGE),
    ]),
    "doctor": ("b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7", _at(4), "socketio", lambda t: [
        user(t + 1, "my left foot has been numb for three weeks and I'm diabetic"),
        bot(t + 2, "Please contact a doctor or other healthcare provider about this.", DOCTOR_TRIAGE),
    ]),
    "self_care": ("c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8", _at(3), "rest", lambda t: [
        user(t + 1, "my foot fell asleep after sitting cross legged and it went away when I stood up"),
        bot(t + 2, "This sounds like the common, usually harmless kind of numbness.", SELF_CARE_TRIAGE),
    ]),
    "undecided": ("d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9", _at(2), "rest", lambda t: [
        user(t + 1, "my thigh tingles", confidence=0.64),
        bot(t + 2, "How long has it felt like this?"),
    ]),
    "old_emergency_reviewed": ("e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0", _at(1, hour=7), "rest", lambda t: [
        user(t + 1, "I fell on my back and now my legs are numb"),
        bot(t + 2, "EMERGENCY: call 911 now.", dict(EMERGENCY_TRIAGE, rules=["emergency.back_injury"],
                                                 red_flags=["emergency.back_injury"])),
    ]),
}


def seed(url: str) -> Dict[str, int]:
    """Writes the conversations above; the reviewed one is marked reviewed by 'ann'. Returns their ids."""
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        ids = {}
        with transaction(sessions) as session:
            for name, (sender, start, channel, messages) in CONVERSATIONS.items():
                events = [*session_start(start), *messages(start)]
                for event in events:
                    if event["event"] == "user":
                        event["input_channel"] = channel
                store_records(session, transcript_records(sender, events, 0))
            session.flush()
            for name, (sender, *_rest) in CONVERSATIONS.items():
                ids[name] = session.scalar(select(Conversation.id).where(Conversation.sender == sender))
            reviewed = session.get(Conversation, ids["old_emergency_reviewed"])
            reviewed.reviewed_at, reviewed.reviewed_by = dt.datetime(2024, 3, 2, 8), "ann"
        return ids
    finally:
        engine.dispose()


# What a person could type to attack the staff who read the transcript: an element with an event
# handler, an attribute break-out, and closing tags before a script. All must show as plain text.
HOSTILE_MESSAGES = (
    "<img src=x onerror=\"document.title='pwned'\"> my calf is numb",
    "\"><svg onload=\"document.title='pwned'\"> and it tingles",
    "</div></section><script>document.title='pwned'</script>since monday",
    "' autofocus onfocus='document.title=\"pwned\"' x=' and my toes",
)
HOSTILE_SENDER = "f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1"


def seed_hostile(url: str) -> int:
    """One more conversation made only of the messages above; returns its id."""
    start = _at(5)
    events = [*session_start(start)]
    for offset, text in enumerate(HOSTILE_MESSAGES):
        events += [user(start + 2 * offset + 1, text), bot(start + 2 * offset + 2, "How long has it been like this?")]
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            store_records(session, transcript_records(HOSTILE_SENDER, events, 0))
            session.flush()
            return session.scalar(select(Conversation.id).where(Conversation.sender == HOSTILE_SENDER))
    finally:
        engine.dispose()
