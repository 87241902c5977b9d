"""Rasa tracker events -> transcript records. Pure: no database, no file, no Rasa import.

A record is what the transcript keeps of one user or bot message. Records are plain data so
that they can wait in the spool file as JSON while the database is unavailable.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from .models import BOT, USER

SESSION_STARTED = "session_started"


def pseudonym(key: str, sender_id: str) -> str:
    """A stable pseudonym for a sender id: HMAC-SHA256 with a key kept outside the database."""
    return hmac.new(key.encode("utf-8"), sender_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class TriageRecord:
    level: str
    rules: List[str] = field(default_factory=list)
    red_flags: List[str] = field(default_factory=list)
    reasons: List[Dict[str, Any]] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    rulebook_version: Optional[str] = None
    # The red-flag findings with the detector(s) that found each, and the signs asked back.
    findings: List[Dict[str, Any]] = field(default_factory=list)
    suspected: List[str] = field(default_factory=list)
    # The symptom picture so far: [{"question", "concept", "text"}] (bot.triage.engine summary).
    summary: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def sources(self) -> List[str]:
        """The distinct documents the reasons cite, in the order first cited."""
        return list(dict.fromkeys(r["source"] for r in self.reasons if r.get("source")))


@dataclass(frozen=True)
class TranscriptRecord:
    key: str  # stable per event: the same event always gives the same key
    sender: str  # the pseudonym
    session_key: str
    session_started_at: float
    at: float
    speaker: str
    text: str
    channel: Optional[str] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    triage: Optional[TriageRecord] = None

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "TranscriptRecord":
        triage = data.get("triage")
        return cls(**{**data, "triage": TriageRecord(**triage) if triage else None})

    @property
    def at_datetime(self) -> dt.datetime:
        return to_datetime(self.at)

    @property
    def started_datetime(self) -> dt.datetime:
        return to_datetime(self.session_started_at)


def to_datetime(timestamp: float) -> dt.datetime:
    """A Rasa timestamp (seconds since the epoch) as naive UTC, as our tables keep time."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)


def triage_of(bot_event: Dict[str, Any]) -> Optional[TriageRecord]:
    """The decision a bot message carries in its custom payload ({"triage": {...}}), if any."""
    custom = (bot_event.get("data") or {}).get("custom")
    triage = custom.get("triage") if isinstance(custom, dict) else None
    if not isinstance(triage, dict) or not triage.get("level"):
        return None
    return TriageRecord(
        level=str(triage["level"]),
        rules=list(triage.get("rules") or []),
        red_flags=list(triage.get("red_flags") or []),
        reasons=[dict(reason) for reason in triage.get("reasons") or []],
        missing=list(triage.get("missing") or []),
        rulebook_version=triage.get("rulebook_version"),
        findings=[dict(f) for f in triage.get("findings") or [] if isinstance(f, dict)],
        suspected=[str(s) for s in triage.get("suspected") or []],
        summary=[{key: str(item.get(key) or "") for key in ("question", "concept", "text")}
                 for item in triage.get("summary") or [] if isinstance(item, dict)],
    )


def _event_key(sender: str, event: Dict[str, Any]) -> str:
    identity = f"{sender}|{event.get('event')}|{event.get('timestamp')!r}|{event.get('text') or ''}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]


def transcript_records(sender: str, events: Sequence[Dict[str, Any]], first_new: int) -> List[TranscriptRecord]:
    """Records for the user and bot messages among events[first_new:].

    `events` are the tracker's events as dicts, oldest first, including those already stored,
    because a new message's session and channel are decided by the events before it.
    """
    records: List[TranscriptRecord] = []
    session_started_at: Optional[float] = None
    channel: Optional[str] = None
    for index, event in enumerate(events):
        kind = event.get("event")
        timestamp = float(event.get("timestamp") or 0.0)
        if session_started_at is None or kind == SESSION_STARTED:
            # Without Rasa sessions, the first event stands for the start of the one session.
            session_started_at = timestamp
        if kind == USER and event.get("input_channel"):
            channel = event["input_channel"]
        if index < first_new or kind not in (USER, BOT):
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}) if kind == USER else {}
        records.append(
            TranscriptRecord(
                key=_event_key(sender, event),
                sender=sender,
                session_key=f"{session_started_at:.6f}",
                session_started_at=session_started_at,
                at=timestamp,
                speaker=kind,
                text=event.get("text") or "",
                channel=channel,
                intent=intent.get("name"),
                confidence=intent.get("confidence"),
                triage=triage_of(event) if kind == BOT else None,
            )
        )
    return records
