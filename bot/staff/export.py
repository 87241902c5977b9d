"""Transcripts as JSON, JSON Lines and CSV, the same from the pages and from `python -m bot.staff export`.

JSON: {"conversations": [{"id", "channel", "sender", "started_at", "triage_level",
       "summary": [{"question", "concept", "text"}], "messages": [{"at", "speaker", "text"}]}]},
      speaker "user" or "bot", times in UTC (ISO 8601, Z).
JSON Lines: one such conversation object per line.
CSV: one row per message, with the conversation's fields (its summary as one line) repeated and each
bot message's decision.

Each format is written while the conversations are read, a batch at a time (queries.export_batches):
the output is a stream of text chunks, and memory stays the same whatever the size of the export.
The audit entry of an export records its filter, how many conversations it held and a digest of
their ids (`ExportTally`), not every id.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from .summary import summary_line

CSV_COLUMNS = (
    "conversation_id", "channel", "sender", "started_at", "triage_level",
    "at", "speaker", "text", "intent", "confidence", "decision_level", "decision_rules", "summary",
)
# A spreadsheet runs a cell that starts with one of these as a formula; people wrote these texts.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
IDS_KEPT = 100  # an export this small keeps its ids in the audit entry as well as their digest

Batch = List[Tuple[Any, List[Any]]]  # (conversation row, its message rows), as queries.export_batches yields


def utc_iso(moment: Union[dt.datetime, str, None]) -> Optional[str]:
    """A naive UTC time as 2024-03-01T09:00:01.000Z; also SQLite's text of it ("2024-03-01 09:00:01.000000")."""
    if not moment:
        return None
    if isinstance(moment, str):
        if len(moment) == 26:  # how SQLAlchemy stores a DateTime in SQLite
            return f"{moment[:10]}T{moment[11:23]}Z"
        moment = dt.datetime.fromisoformat(moment)
    return moment.isoformat(timespec="milliseconds") + "Z"


class ExportTally:
    """What the audit keeps of an export: the count, a SHA-256 of the ids in order, and the first few ids.

    The digest is of the ids written one per line ("12\\n13\\n"), so anyone holding the export can check it.
    """

    def __init__(self) -> None:
        self.count = 0
        self._digest = hashlib.sha256()
        self._first: List[int] = []

    def add(self, conversation_id: int) -> None:
        self.count += 1
        self._digest.update(f"{conversation_id}\n".encode("ascii"))
        if len(self._first) <= IDS_KEPT:
            self._first.append(conversation_id)

    def detail(self) -> Dict[str, Any]:
        detail: Dict[str, Any] = {"count": self.count, "ids_sha256": self._digest.hexdigest()}
        if self.count <= IDS_KEPT:
            detail["ids"] = list(self._first)
        return detail


def conversation_dict(conversation: Any, messages: Iterable[Any]) -> Dict[str, Any]:
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "sender": conversation.sender,
        "started_at": utc_iso(conversation.started_at),
        "triage_level": conversation.triage_level,
        "summary": list(conversation.summary or []),
        "messages": [{"at": utc_iso(m.at), "speaker": m.speaker, "text": m.text} for m in messages],
    }


def json_chunks(batches: Iterable[Batch], tally: ExportTally) -> Iterator[str]:
    yield '{"conversations": ['
    separator = "\n"
    for batch in batches:
        parts = []
        for conversation, messages in batch:
            tally.add(conversation.id)
            parts.append(separator + json.dumps(conversation_dict(conversation, messages), ensure_ascii=False))
            separator = ",\n"
        yield "".join(parts)
    yield "\n]}\n"


def jsonl_chunks(batches: Iterable[Batch], tally: ExportTally) -> Iterator[str]:
    for batch in batches:
        parts = []
        for conversation, messages in batch:
            tally.add(conversation.id)
            parts.append(json.dumps(conversation_dict(conversation, messages), ensure_ascii=False) + "\n")
        yield "".join(parts)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _row(conversation: Any, message: Any) -> List[Any]:
    rules = message.decision_rules
    return [
        _cell(value)
        for value in (
            conversation.id, conversation.channel, conversation.sender, utc_iso(conversation.started_at),
            conversation.triage_level, utc_iso(message.at), message.speaker, message.text, message.intent,
            message.confidence, message.decision_level, " ".join(rules) if message.decision_level else None,
            summary_line(conversation.summary),
        )
    ]


def csv_chunks(batches: Iterable[Batch], tally: ExportTally) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for batch in batches:
        for conversation, messages in batch:
            tally.add(conversation.id)
            for message in messages:
                writer.writerow(_row(conversation, message))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


Writer = Callable[[Iterable[Batch], ExportTally], Iterator[str]]
FORMATS: Dict[str, Tuple[Writer, str]] = {
    "json": (json_chunks, "application/json"),
    "jsonl": (jsonl_chunks, "application/jsonl"),
    "csv": (csv_chunks, "text/csv"),
}
WITH_DETAILS = {"csv"}  # the formats that carry each message's intent, confidence and decision

# FHIR R4 (bot/fhir): a collection Bundle, the same as a transaction for a FHIR server, or one
# resource per line; bot/fhir reads each conversation with its decisions itself (the same filter
# or ids), in pseudonym order, so that each Patient comes once.
FHIR_FORMATS: Dict[str, str] = {
    "fhir": "application/fhir+json",
    "fhir-transaction": "application/fhir+json",
    "fhir-ndjson": "application/fhir+ndjson",
}
MIMETYPES: Dict[str, str] = {**{fmt: mimetype for fmt, (_write, mimetype) in FORMATS.items()}, **FHIR_FORMATS}
EXTENSIONS: Dict[str, str] = {"fhir": "fhir.json", "fhir-transaction": "transaction.fhir.json", "fhir-ndjson": "ndjson"}


def _tallied(conversations: Iterable[Any], tally: ExportTally) -> Iterator[Any]:
    for conversation in conversations:
        tally.add(conversation.id)
        yield conversation


def export_chunks(fmt: str, sessions: Any, filters: Any, ids: Optional[Sequence[int]], tally: ExportTally) -> Iterator[str]:
    """Any format's text, in chunks, written while the conversations are read."""
    from .queries import export_batches

    if fmt in FHIR_FORMATS:
        from .. import fhir  # fhir.resources is loaded only when a FHIR export is asked for

        conversations = _tallied(fhir.stored_conversations(sessions, where=filters.where if filters else None, ids=ids), tally)
        if fmt == "fhir-ndjson":
            return fhir.ndjson_lines(conversations)
        return fhir.bundle_json(conversations, fhir.TRANSACTION if fmt == "fhir-transaction" else fhir.COLLECTION)
    write, _mimetype = FORMATS[fmt]
    return write(export_batches(sessions, filters, ids, with_details=fmt in WITH_DETAILS), tally)
