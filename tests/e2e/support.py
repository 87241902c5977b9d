"""Shared by the fault, bad-input and HTTP API end-to-end tests: settings on free ports, a REST
client that also returns the status, transcripts read back from the transcript database, and
the figures the tests collect for the issue's report (printed at the end of the run)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import select

from bot.serve import Assistant
from bot.settings import Settings
from bot.store.database import make_engine, make_session_factory
from bot.store.models import Conversation, Message
from bot.store.records import pseudonym

from ..store.conftest import TEST_PSEUDONYM_KEY
from ..store.databases import free_port, transcripts_written
from .test_rest_conversation import MODEL

EMERGENCY_START = "EMERGENCY: call"
TECHNICAL_PROBLEM = "Sorry, we have a technical problem"

# Filled by the tests, printed by conftest.pytest_terminal_summary and written to e2e-figures.json.
FIGURES: Counter = Counter()


def e2e_settings(data_dir: Path, **overrides: Any) -> Settings:
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), data_dir=data_dir, tracker_db=data_dir / "tracker.db",
        model_path=MODEL, pseudonym_key=TEST_PSEUDONYM_KEY,
    )
    return replace(settings, **overrides)


def new_sender(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def post(url: str, body: Any, timeout: float = 60) -> Tuple[int, Any]:
    """(status, decoded JSON or text); an HTTP error status is returned, not raised."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return _open(request, timeout)


def get(url: str, timeout: float = 30) -> Tuple[int, Any]:
    return _open(urllib.request.Request(url), timeout)


def _open(request: urllib.request.Request, timeout: float) -> Tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def send(assistant: Assistant, sender: str, text: str, timeout: float = 60) -> List[Dict[str, Any]]:
    """One REST turn; fails unless the Rasa server answers 200 with a list of messages."""
    status, reply = post(assistant.settings.rasa_url + "/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout)
    assert status == 200, (status, reply)
    assert isinstance(reply, list), reply
    FIGURES["messages sent"] += 1
    return reply


def texts(reply: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in reply if m.get("text")]


def stored(settings: Settings, sender: str) -> List[Tuple[str, str]]:
    """(speaker, text) of every transcript message of this sender, all sessions, in order."""
    transcripts_written(settings.data_dir)
    engine = make_engine(settings.transcripts_url)
    try:
        with make_session_factory(engine)() as session:
            query = (
                select(Message.speaker, Message.text)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(Conversation.sender == pseudonym(settings.pseudonym_key, sender))
                .order_by(Message.at, Message.id)
            )
            return [(speaker, text) for speaker, text in session.execute(query)]
    finally:
        engine.dispose()


def stored_user_texts(settings: Settings, sender: str) -> List[str]:
    return [text for speaker, text in stored(settings, sender) if speaker == "user"]


def write_figures(folder: Optional[Path]) -> Optional[Path]:
    if not FIGURES or folder is None:
        return None
    path = Path(folder) / "e2e-figures.json"
    path.write_text(json.dumps(dict(sorted(FIGURES.items())), indent=2))
    return path
