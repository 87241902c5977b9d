"""What a stored conversation holds, read as the export needs it. Pure: reads loaded rows, writes nothing.

Since revision 0003 each decision keeps the red-flag findings behind it (what the payload carries),
with their status and detectors; the other facts (side, place, duration, ...) are only in the
messages, which the QuestionnaireResponse reads. Decisions stored before 0003 have no findings
(NULL): they export their rules and sources, and no observations. A finding or reason of a shape we
do not know is skipped, never guessed at.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..store.models import Conversation, Message, TriageDecision


@dataclass(frozen=True)
class StoredFinding:
    concept: str
    text: str
    status: str
    detected_by: Tuple[str, ...] = ()
    score: Optional[float] = None
    minutes: Optional[float] = None
    suspected: bool = False

    @property
    def key(self) -> Tuple[str, str, str, Optional[float]]:
        """The same finding in several decisions (each decision re-reads the whole session) is one finding."""
        return (self.concept, self.status, self.text, self.minutes)


@dataclass(frozen=True)
class CitedSource:
    rule: str
    level: str
    document: str
    quote: str


def decided(conversation: Conversation) -> List[Tuple[Message, TriageDecision]]:
    """The bot messages that carried a decision, in order. Read through the messages, which every
    loader of ours (and the staff app's) loads with their decisions."""
    return [(message, message.decision) for message in conversation.messages if message.decision is not None]


def findings_of(decision: TriageDecision) -> List[StoredFinding]:
    found = []
    for raw in decision.findings or []:
        if not isinstance(raw, dict) or not raw.get("concept") or not raw.get("status"):
            continue
        found.append(
            StoredFinding(
                concept=str(raw["concept"]),
                text=str(raw.get("text") or ""),
                status=str(raw["status"]),
                detected_by=tuple(str(d) for d in raw.get("detected_by") or ()),
                score=_number(raw.get("score")),
                minutes=_number(raw.get("minutes")),
                suspected=bool(raw.get("suspected")),
            )
        )
    return found


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def latest_findings(conversation: Conversation) -> List[StoredFinding]:
    """The findings of the newest decision that recorded any: each decision re-reads the whole
    session, so the newest holds the picture as it ended."""
    for _message, decision in reversed(decided(conversation)):
        if decision.findings is not None:
            return findings_of(decision)
    return []


def first_seen(conversation: Conversation) -> Dict[Tuple, Tuple[StoredFinding, dt.datetime]]:
    """Every distinct finding of the conversation, with when a decision first recorded it, in order."""
    seen: Dict[Tuple, Tuple[StoredFinding, dt.datetime]] = {}
    for _message, decision in decided(conversation):
        for finding in findings_of(decision):
            seen.setdefault(finding.key, (finding, decision.at))
    return seen


def cited_sources(decision: TriageDecision) -> List[CitedSource]:
    """Each rule's sources as the decision stored them: {"rule", "level", "source", "quote"}, or the
    engine's fuller {"sources": [{"document", "quote"}, ...]} where a reason carries that."""
    cited: List[CitedSource] = []
    for reason in decision.reasons or []:
        if not isinstance(reason, dict) or not reason.get("rule"):
            continue
        sources: Sequence[Dict[str, Any]] = [
            s for s in reason.get("sources") or () if isinstance(s, dict) and s.get("document") and s.get("quote")
        ] or ([{"document": reason["source"], "quote": reason.get("quote") or ""}] if reason.get("source") else [])
        for source in sources:
            item = CitedSource(str(reason["rule"]), str(reason.get("level") or decision.level),
                               str(source["document"]), str(source["quote"]))
            if item not in cited:
                cited.append(item)
    return cited
