"""Transcript records -> rows of our tables, inside a session the caller commits."""
from __future__ import annotations

from typing import Dict, Iterable, List, Set, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..triage.levels import EMERGENCY, more_urgent
from .models import Conversation, Message, TriageDecision
from .records import TranscriptRecord, TriageRecord

KEYS_PER_QUERY = 500  # under every database's limit of bound parameters (SQLite's oldest: 999)


def store_records(session: Session, records: Iterable[TranscriptRecord]) -> int:
    """Adds the records not yet stored; returns how many were new. Replaying records is harmless."""
    records = list(records)
    conversations: Dict[Tuple[str, str], Conversation] = {}
    seen: Set[str] = _stored_keys(session, [record.key for record in records])
    written = 0
    for record in records:
        if record.key in seen:
            continue
        seen.add(record.key)
        conversation = _conversation_for(session, record, conversations)
        message = Message(
            conversation=conversation,
            event_key=record.key,
            at=record.at_datetime,
            speaker=record.speaker,
            text=record.text,
            intent=record.intent,
            confidence=record.confidence,
        )
        session.add(message)
        conversation.last_message_at = max(conversation.last_message_at, message.at)
        conversation.channel = conversation.channel or record.channel
        if record.triage:
            _add_decision(conversation, message, record.triage)
        written += 1
    return written


def _stored_keys(session: Session, keys: List[str]) -> Set[str]:
    """The event keys among ``keys`` already stored: one query per KEYS_PER_QUERY keys, not one a record."""
    found: Set[str] = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        found.update(session.scalars(select(Message.event_key).where(Message.event_key.in_(chunk))))
    return found


def _conversation_for(
    session: Session, record: TranscriptRecord, cache: Dict[Tuple[str, str], Conversation]
) -> Conversation:
    key = (record.sender, record.session_key)
    if key not in cache:
        found = session.scalar(
            select(Conversation).where(Conversation.sender == record.sender, Conversation.session_key == record.session_key)
        )
        if found is None:
            found = Conversation(
                sender=record.sender,
                session_key=record.session_key,
                channel=record.channel,
                started_at=record.started_datetime,
                last_message_at=record.at_datetime,
                emergency=False,
                red_flags=[],
            )
            session.add(found)
        cache[key] = found
    return cache[key]


def _add_decision(conversation: Conversation, message: Message, triage: TriageRecord) -> None:
    message.decision = TriageDecision(
        conversation=conversation,
        at=message.at,
        level=triage.level,
        rules=triage.rules,
        red_flags=triage.red_flags,
        reasons=triage.reasons,
        sources=triage.sources,
        missing=triage.missing,
        rulebook_version=triage.rulebook_version,
        findings=triage.findings,
        suspected=triage.suspected,
    )
    if more_urgent(triage.level, conversation.triage_level):
        conversation.triage_level = triage.level
    if triage.summary:  # the latest picture; an older decision's never replaces it
        conversation.summary = triage.summary
    # A JSON column is only saved when assigned a new value, not when changed in place.
    conversation.red_flags = sorted(set(conversation.red_flags or []) | set(triage.red_flags))
    if triage.level == EMERGENCY:
        conversation.emergency = True
        # An emergency after a review has not been seen by anyone yet: back to the top of the list.
        conversation.reviewed_at = None
        conversation.reviewed_by = None
