"""Conversations for the FHIR export tests, written the way the Rasa server writes them: tracker
events -> transcript records -> rows (bot.store.records, bot.store.transcripts). Each decision is the
real engine's over the findings below, sent as the real payload (bot.dialogue.replies.triage_payload),
which carries the red-flag findings the store keeps; each question is the assistant's own wording."""
from __future__ import annotations

import datetime as dt
from typing import Dict, List, Sequence

from sqlalchemy import select

from bot.dialogue import replies
from bot.dialogue.replies import triage_payload
from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.models import Conversation, TriageDecision
from bot.store.records import transcript_records
from bot.store.transcripts import store_records
from bot.triage.engine import Decision, TriageEngine
from bot.nlp.findings import ANSWER, EMBEDDING, FAMILY, HISTORICAL, HYPOTHETICAL, NEGATED, PATTERNS, PRESENT, Finding
from bot.triage.rulebook import load_rulebook

from ..store.events import EMERGENCY_TRIAGE, bot, session_start, user

EMERGENCY_SENDER = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
DOCTOR_SENDER = "b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7"
LEGACY_SENDER = "c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"

SCRIPT_TEXT = "<script>alert('x')</script> my right calf is numb, my speech is fine, I hurt my back years ago"
BLADDER_TEXT = "and now I can't control my bladder. what if I can't walk? my father had a stroke"
DOCTOR_TEXT = "my left foot has been numb for three weeks and I'm diabetic"
LATER_TEXT = "it's me again, the calf is fine today"
LEGACY_TEXT = "I fell and now I can't control my bladder"


def at(day: int, hour: int = 9, minute: int = 0) -> float:
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=dt.timezone.utc).timestamp()


EMERGENCY_FINDINGS = (
    Finding("numbness", "numb", PRESENT, "symptom"),
    Finding("right_leg", "right", PRESENT, "side"),
    Finding("calf", "calf", PRESENT, "location"),
    Finding("slurred_speech", "my speech is fine", NEGATED, "red_flag"),
    Finding("back_injury", "I hurt my back years ago", HISTORICAL, "red_flag"),
    Finding("bladder_bowel_loss", "can't control my bladder", PRESENT, "red_flag",
            detected_by=(PATTERNS, EMBEDDING), score=0.83),
    Finding("inability_to_move_or_walk", "what if I can't walk", HYPOTHETICAL, "red_flag"),
    Finding("stroke_suspected", "my father had a stroke", FAMILY, "red_flag"),
)
DOCTOR_FIRST = (
    Finding("left_leg", "left", PRESENT, "side"),
    Finding("foot", "foot", PRESENT, "location"),
    Finding("numbness", "numb", PRESENT, "symptom"),
    Finding("duration", "for three weeks", PRESENT, "duration", minutes=30240.0),
    Finding("diabetes", "I'm diabetic", PRESENT, "condition"),
    # Only the embedding thought so: asked back before it counts.
    Finding("dizziness", "my head", PRESENT, "red_flag", detected_by=(EMBEDDING,), score=0.58, suspected=True),
)
DOCTOR_FINAL = DOCTOR_FIRST[:-1] + (
    Finding("red_flags_denied", "None of those", PRESENT, "answer", detected_by=(ANSWER,)),
    Finding("gradual_onset", "gradually", PRESENT, "onset"),
)


def decide(findings: Sequence[Finding]) -> Decision:
    return TriageEngine(load_rulebook()).decide(findings)


def _payload(decision: Decision) -> dict:
    return triage_payload(decision)["triage"]


def asks(question_id: str) -> str:
    """What the assistant says when it asks that question."""
    return replies.question(question_id).text


def _conversations() -> Dict[str, tuple]:
    emergency, first, final = decide(EMERGENCY_FINDINGS), decide(DOCTOR_FIRST), decide(DOCTOR_FINAL)
    return {
        # name: (sender, channel, start, events after the session start, stored before revision 0003)
        "emergency": (EMERGENCY_SENDER, "rest", at(1), lambda t: [
            user(t + 1, "hi", intent="greet"),
            bot(t + 2, "Hello, I'm the leg-numbness triage assistant."),
            user(t + 3, SCRIPT_TEXT),
            bot(t + 4, asks("emergency_signs")),
            user(t + 5, BLADDER_TEXT),
            bot(t + 6, "EMERGENCY: call 911 now, or go to the nearest emergency department.", _payload(emergency)),
        ], False),
        "doctor": (DOCTOR_SENDER, "socketio", at(2), lambda t: [
            user(t + 1, DOCTOR_TEXT),
            bot(t + 2, "From what you've told me so far, this should be checked by a doctor.", _payload(first)),
            bot(t + 3, asks("emergency_signs")),
            user(t + 4, "None of those"),
            bot(t + 5, asks("onset")),
            user(t + 6, "gradually"),
            bot(t + 7, "Please contact a doctor or other healthcare provider about this.", _payload(final)),
        ], False),
        # The same person as "emergency", a day later: one Patient for both.
        "later": (EMERGENCY_SENDER, "rest", at(2, hour=8), lambda t: [
            user(t + 1, LATER_TEXT),
            bot(t + 2, asks("side")),
        ], False),
        "legacy": (LEGACY_SENDER, "rest", at(3), lambda t: [
            user(t + 1, LEGACY_TEXT),
            bot(t + 2, "EMERGENCY: call 911 now.", EMERGENCY_TRIAGE),
        ], True),
    }


def as_before_0003(session, conversation: Conversation) -> None:
    """Decisions stored before revision 0003 have NULL findings (the column did not exist)."""
    for row in session.scalars(select(TriageDecision).where(TriageDecision.conversation_id == conversation.id)):
        row.findings, row.suspected = None, None


def write_conversation(session, sender: str, channel: str, start: float, events: List[dict]) -> Conversation:
    events = [*session_start(start), *events]
    for event in events:
        if event["event"] == "user":
            event["input_channel"] = channel
    store_records(session, transcript_records(sender, events, 0))
    session.flush()
    newest = select(Conversation).where(Conversation.sender == sender).order_by(Conversation.id.desc()).limit(1)
    return session.scalar(newest)


def seed(url: str) -> Dict[str, int]:
    """Writes the conversations above; returns their ids by name."""
    engine = make_engine(url)
    try:
        ids = {}
        with transaction(make_session_factory(engine)) as session:
            for name, (sender, channel, start, events, legacy) in _conversations().items():
                conversation = write_conversation(session, sender, channel, start, events(start))
                if legacy:
                    as_before_0003(session, conversation)
                ids[name] = conversation.id
        return ids
    finally:
        engine.dispose()


def seed_many(url: str, count: int, first_day: int = 10) -> List[int]:
    """`count` more small conversations of as many people, each with an emergency decision."""
    decision = decide(EMERGENCY_FINDINGS)
    engine = make_engine(url)
    try:
        ids = []
        with transaction(make_session_factory(engine)) as session:
            for index in range(count):
                start = at(first_day + index // 1000, minute=0) + 60 * (index % 1000)
                sender = f"{index:032x}"
                conversation = write_conversation(session, sender, "rest", start, [
                    user(start + 1, f"message {index}: {BLADDER_TEXT}"),
                    bot(start + 2, "EMERGENCY: call 911 now.", _payload(decision)),
                ])
                ids.append(conversation.id)
        return ids
    finally:
        engine.dispose()
