"""The symptom picture at the top of a transcript: a short clinical summary in the person's words,
each item linked to the message it came from ("side: left · location: calf · duration: three weeks").

The items are the latest triage decision's (bot.triage.engine summary, stored with the conversation):
grouped by the rulebook's questions, the red flags first.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

from ..triage.levels import RED_FLAGS


@dataclass(frozen=True)
class SummaryItem:
    heading: str  # "emergency signs present", "side", "associated symptoms", ...
    text: str  # the person's words
    message_id: Optional[int]  # the first message of theirs that says it
    red_flag: bool = False


def heading_of(question: str) -> str:
    return "emergency signs present" if question == RED_FLAGS else question.replace("_", " ")


def summary_items(summary: Optional[Sequence[Dict[str, Any]]], messages: Iterable[Any]) -> List[SummaryItem]:
    said = [(m.id, (m.text or "").lower()) for m in messages if m.speaker == "user"]
    items = []
    for item in summary or ():
        words = str(item.get("text") or "")
        source = next((message_id for message_id, text in said if words.lower() in text), None) if words else None
        question = str(item.get("question") or "")
        items.append(SummaryItem(heading_of(question), words, source, question == RED_FLAGS))
    return items


def summary_line(summary: Optional[Sequence[Dict[str, Any]]]) -> str:
    """One line for a CSV cell: "side: left; location: calf; conditions: diabetic"."""
    return "; ".join(f"{heading_of(str(item.get('question') or ''))}: {item.get('text') or ''}" for item in summary or ())
