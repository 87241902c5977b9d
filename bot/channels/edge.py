"""What a request from outside must look like before any of it reaches Rasa. Pure: no Rasa, no I/O.

Every channel hands its sender id, text and metadata through here (bot/channels/guard.py), and
the REST channel its whole body (``rest_message``). Bad shapes are refused with a short reason
(``BadRequest``, answered as HTTP 400 or 413); odd but harmless content is cleaned:

- sender ids and metadata: characters no database can store (a lone UTF-16 surrogate, NUL) are
  replaced with U+FFFD. A surrogate in a sender id made Rasa's SQL tracker store raise
  UnicodeEncodeError, which Rasa turns into sys.exit: one request stopped every service.
- message text: the same, and invisible characters (zero-width, soft hyphen, BOM, bidi controls)
  are removed, so that "con\u200btrol" reads as "control" to the language layer.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional

MAX_SENDER_CHARS = 128
MAX_METADATA_BYTES = 8 * 1024  # the widget sends its page and language; nothing needs more
MAX_METADATA_DEPTH = 4

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Soft hyphen, Mongolian vowel separator, zero-width space/non-joiner/joiner, LRM/RLM, bidi
# embeddings and overrides, word joiner and invisible operators, bidi isolates, BOM.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


class BadRequest(ValueError):
    """A request refused at the edge; ``reason`` is short and safe to send back (no user text)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def storable(text: str) -> str:
    return UNSTORABLE.sub("\ufffd", text)


def clean_text(text: Optional[str]) -> str:
    """The message as the language layer and the transcript get it."""
    return storable(INVISIBLE.sub("", text or "")).strip()


def clean_sender(value: Any) -> str:
    """A non-empty id of at most MAX_SENDER_CHARS. Whole numbers are ids too (Telegram's chat ids)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("'sender' must be a non-empty string")
    value = storable(value.strip())
    if len(value) > MAX_SENDER_CHARS:
        raise BadRequest(f"'sender' must be at most {MAX_SENDER_CHARS} characters")
    return value


def _clean_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict) and depth < MAX_METADATA_DEPTH:
        return {storable(str(k)): _clean_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list) and depth < MAX_METADATA_DEPTH:
        return [_clean_value(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return None  # deeper than any client of ours sends: dropped, not refused


def clean_metadata(value: Any) -> Optional[Dict[str, Any]]:
    """Metadata is an object of bounded size, or nothing: anything else is ignored, never a reason
    to drop the message it came with (an emergency may be in that message)."""
    if isinstance(value, str):  # Rasa's socket.io channel accepts metadata as a JSON string
        try:
            value = parse_json(value)
        except BadRequest:
            return None
    if not isinstance(value, dict):
        return None
    cleaned = _clean_value(value, 0)
    if len(json.dumps(cleaned)) > MAX_METADATA_BYTES:
        return None
    return cleaned


def parse_json(body: Any) -> Any:
    """JSON from outside, or BadRequest. A deeply nested body ("[[[[...") makes json.loads raise
    RecursionError, which is not a ValueError: uncaught, it was an HTTP 500."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's depth
        raise BadRequest("the body must be JSON") from None


@dataclass(frozen=True)
class Incoming:
    sender: str
    text: str
    metadata: Optional[Dict[str, Any]]

    def as_json(self) -> Dict[str, Any]:
        """The body Rasa's REST channel reads: only what we accept (a client's input_channel is dropped)."""
        return {"sender": self.sender, "message": self.text, "metadata": self.metadata}


def rest_message(body: bytes, max_bytes: int) -> Incoming:
    """The REST channel's body: {"sender": "...", "message": "...", "metadata": {...}}; other fields ignored."""
    if len(body) > max_bytes:
        raise BadRequest(f"the request body is larger than {max_bytes} bytes", status=413)
    data = parse_json(body) if body.strip() else None
    if not isinstance(data, dict):
        raise BadRequest('the body must be a JSON object: {"sender": "...", "message": "..."}')
    text = data.get("message")
    if text is None:
        text = ""  # an empty message is answered (the person is asked to type something)
    if not isinstance(text, str):
        raise BadRequest("'message' must be a string")
    return Incoming(clean_sender(data.get("sender")), text, clean_metadata(data.get("metadata")))
