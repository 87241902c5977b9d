"""Transcripts as JSON and CSV, the same from the pages and from `python -m bot.staff export`.

JSON: {"conversations": [{"id", "channel", "sender", "started_at", "triage_level",
       "messages": [{"at", "speaker", "text"}]}]}, speaker "user" or "bot", times in UTC (ISO 8601, Z).
CSV: one row per message, with the conversation's fields repeated and each bot message's decision.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Dict, Iterable, List, Optional

from ..store.models import Conversation, Message

CSV_COLUMNS = (
    "conversation_id", "channel", "sender", "started_at", "triage_level",
    "at", "speaker", "text", "intent", "confidence", "decision_level", "decision_rules",
)
# A spreadsheet runs a cell that starts with one of these as a formula; people wrote these texts.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def utc_iso(moment: Optional[dt.datetime]) -> Optional[str]:
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None


def conversation_dict(conversation: Conversation) -> Dict[str, Any]:
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "sender": conversation.sender,
        "started_at": utc_iso(conversation.started_at),
        "triage_level": conversation.triage_level,
        "messages": [
            {"at": utc_iso(message.at), "speaker": message.speaker, "text": message.text}
            for message in conversation.messages
        ],
    }


def to_json(conversations: Iterable[Conversation]) -> str:
    return json.dumps({"conversations": [conversation_dict(c) for c in conversations]}, indent=2, ensure_ascii=False)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _row(conversation: Conversation, message: Message) -> List[Any]:
    decision = message.decision
    return [
        _cell(value)
        for value in (
            conversation.id, conversation.channel, conversation.sender, utc_iso(conversation.started_at),
            conversation.triage_level, utc_iso(message.at), message.speaker, message.text, message.intent,
            message.confidence, decision.level if decision else None, " ".join(decision.rules) if decision else None,
        )
    ]


def to_csv(conversations: Iterable[Conversation]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for conversation in conversations:
        for message in conversation.messages:
            writer.writerow(_row(conversation, message))
    return buffer.getvalue()


FORMATS = {"json": (to_json, "application/json"), "csv": (to_csv, "text/csv")}
