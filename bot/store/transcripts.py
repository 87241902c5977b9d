"""Transcript records -> rows of our tables, inside a session the caller commits.

Written with SQLAlchemy Core statements, not ORM objects: the ORM's unit of work made the
transcript writer cost 1.6 ms of CPU a record, now 0.9 ms (`python -m bench.writer`), in a thread
of the Rasa server, whose event loop it held back under load.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Set, Tuple

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from ..triage.levels import EMERGENCY, more_urgent
from .models import Conversation, Message, TriageDecision
from .records import TranscriptRecord, TriageRecord

KEYS_PER_QUERY = 500  # under every database's limit of bound parameters (SQLite's oldest: 999)
SESSIONS_PER_QUERY = 200  # two parameters each
CONVERSATIONS = Conversation.__table__
MESSAGES = Message.__table__
DECISIONS = TriageDecision.__table__

SessionKey = Tuple[str, str]  # (sender, session_key)


@dataclass
class _Conversation:
    """One conversation's row while a batch is written: what the batch changes, updated once."""

    id: int
    values: Dict[str, Any]
    changed: Dict[str, Any] = field(default_factory=dict)

    def set(self, column: str, value: Any) -> None:
        if self.values.get(column) != value:
            self.values[column] = self.changed[column] = value


def store_records(session: Session, records: Iterable[TranscriptRecord]) -> int:
    """Adds the records not yet stored; returns how many were new. Replaying records is harmless."""
    records = list(records)
    seen: Set[str] = _stored_keys(session, [record.key for record in records])
    new: List[TranscriptRecord] = []
    for record in records:
        if record.key not in seen:
            seen.add(record.key)
            new.append(record)
    if not new:
        return 0
    conversations = _conversations_for(session, new)
    session.execute(insert(MESSAGES), [
        {"conversation_id": conversations[(r.sender, r.session_key)].id, "event_key": r.key, "at": r.at_datetime,
         "speaker": r.speaker, "text": r.text, "intent": r.intent, "confidence": r.confidence}
        for r in new
    ])
    message_ids = _message_ids(session, [r.key for r in new if r.triage])
    decisions = []
    for record in new:
        conversation = conversations[(record.sender, record.session_key)]
        conversation.set("last_message_at", max(conversation.values["last_message_at"], record.at_datetime))
        conversation.set("channel", conversation.values["channel"] or record.channel)
        if record.triage:
            decisions.append(_decision(conversation, message_ids[record.key], record.at_datetime, record.triage))
    if decisions:
        session.execute(insert(DECISIONS), decisions)
    for conversation in conversations.values():
        if conversation.changed:
            session.execute(update(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation.id).values(conversation.changed))
    return len(new)


def _stored_keys(session: Session, keys: List[str]) -> Set[str]:
    """The event keys among ``keys`` already stored: one query per KEYS_PER_QUERY keys, not one a record."""
    return set(_message_ids(session, keys))


def _message_ids(session: Session, keys: List[str]) -> Dict[str, int]:
    found: Dict[str, int] = {}
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        found.update(session.execute(select(MESSAGES.c.event_key, MESSAGES.c.id).where(MESSAGES.c.event_key.in_(chunk))).all())
    return found


def _conversations_for(session: Session, records: List[TranscriptRecord]) -> Dict[SessionKey, _Conversation]:
    """The conversation of each record's session, read in a few queries, made where it is new."""
    first: Dict[SessionKey, TranscriptRecord] = {}
    for record in records:
        first.setdefault((record.sender, record.session_key), record)
    wanted = list(first)
    columns = ("channel", "last_message_at", "triage_level", "emergency", "red_flags", "summary", "reviewed_at", "reviewed_by")
    found: Dict[SessionKey, _Conversation] = {}
    for start in range(0, len(wanted), SESSIONS_PER_QUERY):
        chunk = wanted[start : start + SESSIONS_PER_QUERY]
        query = select(CONVERSATIONS.c.id, CONVERSATIONS.c.sender, CONVERSATIONS.c.session_key,
                       *(CONVERSATIONS.c[name] for name in columns)).where(
            or_(*(and_(CONVERSATIONS.c.sender == sender, CONVERSATIONS.c.session_key == key) for sender, key in chunk)))
        for row in session.execute(query).mappings():
            found[(row["sender"], row["session_key"])] = _Conversation(row["id"], {name: row[name] for name in columns})
    for key in wanted:
        if key not in found:
            record = first[key]
            values = {"channel": record.channel, "last_message_at": record.at_datetime, "triage_level": None,
                      "emergency": False, "red_flags": [], "summary": None, "reviewed_at": None, "reviewed_by": None}
            result = session.execute(insert(CONVERSATIONS).values(
                sender=record.sender, session_key=record.session_key, started_at=record.started_datetime, **values))
            found[key] = _Conversation(result.inserted_primary_key[0], values)
    return found


def _decision(conversation: _Conversation, message_id: int, at: Any, triage: TriageRecord) -> Dict[str, Any]:
    if more_urgent(triage.level, conversation.values["triage_level"]):
        conversation.set("triage_level", triage.level)
    if triage.summary:  # the latest picture; an older decision's never replaces it
        conversation.set("summary", triage.summary)
    conversation.set("red_flags", sorted(set(conversation.values["red_flags"] or []) | set(triage.red_flags)))
    if triage.level == EMERGENCY:
        conversation.set("emergency", True)
        # An emergency after a review has not been seen by anyone yet: back to the top of the list.
        conversation.set("reviewed_at", None)
        conversation.set("reviewed_by", None)
    return {
        "conversation_id": conversation.id, "message_id": message_id, "at": at, "level": triage.level,
        "rules": triage.rules, "red_flags": triage.red_flags, "reasons": triage.reasons, "sources": triage.sources,
        "missing": triage.missing, "rulebook_version": triage.rulebook_version, "findings": triage.findings,
        "suspected": triage.suspected,
    }
