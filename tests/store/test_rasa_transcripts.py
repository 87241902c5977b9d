"""End to end: the real Rasa server and action server write transcripts through our tracker store.

Starts what `make run` starts (bot.serve.Assistant, with the staff app), holds a conversation
over the REST channel, and reads the transcript rows back.
"""
from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from bot.serve import Assistant, rasa_env
from bot.settings import PROJECT_ROOT, Settings

from ..e2e.test_rest_conversation import say  # one REST client for the end-to-end tests
from .conftest import TEST_PSEUDONYM_KEY
from .databases import free_port, stored_conversations

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("assistant-transcripts")
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), staff_port=free_port(),
        data_dir=data_dir, tracker_db=data_dir / "tracker.db", model_path=MODEL,
        pseudonym_key=TEST_PSEUDONYM_KEY, staff_secret_key="test-staff-secret-0123456789",
    )
    with Assistant(settings, quiet=True, staff=True) as running:
        yield running


def transcript_of(assistant, sender):
    return stored_conversations(assistant.settings, sender, TEST_PSEUDONYM_KEY)


def test_a_rest_conversation_is_stored_as_a_complete_transcript(assistant):
    sender = f"transcript-{uuid.uuid4().hex[:8]}"
    said = ["hello", "my left foot has been numb for three weeks", "and now I can't control my bladder"]
    replies = [say(assistant, sender, words) for words in said]

    (conversation,) = transcript_of(assistant, sender)
    assert conversation.channel == "rest" and conversation.sender != sender
    assert (conversation.triage_level, conversation.emergency) == ("emergency", True)
    assert "emergency.bladder_bowel_loss" in conversation.red_flags
    messages = conversation.messages
    assert [m.text for m in messages if m.speaker == "user"] == said
    assert [m.at for m in messages] == sorted(m.at for m in messages)
    for message in messages:
        if message.speaker == "user":
            assert message.intent and 0 < message.confidence <= 1
    # Every text the person was sent is in the transcript, turn by turn.
    bot_texts = [m.text for m in messages if m.speaker == "bot"]
    assert bot_texts == [r["text"] for reply in replies for r in reply if r.get("text")]
    # The decision is stored as it was sent.
    sent = [r["custom"]["triage"] for r in replies[-1] if isinstance(r.get("custom"), dict) and "triage" in r["custom"]]
    stored = [m.decision for m in messages if m.decision and m.decision.level == "emergency"]
    assert sent and stored
    assert stored[-1].rules == sent[0]["rules"] and stored[-1].rulebook_version == sent[0]["rulebook_version"]
    assert stored[-1].sources == list(dict.fromkeys(r["source"] for r in sent[0]["reasons"]))
    assert stored[-1].reasons == sent[0]["reasons"]


def test_the_staff_app_runs_beside_rasa_and_reports_transcripts_healthy(assistant):
    with urllib.request.urlopen(assistant.settings.staff_url + "/health", timeout=10) as response:
        report = json.loads(response.read())
    assert response.status == 200 and report["ok"] and report["waiting"] == 0
    with urllib.request.urlopen(assistant.settings.staff_url + "/login", timeout=10) as response:
        assert b"Sign in" in response.read()


def test_the_transcript_is_complete_even_when_the_action_server_is_down(assistant):
    # Last in this module: it stops the action server.
    sender = f"no-actions-{uuid.uuid4().hex[:8]}"
    say(assistant, sender, "hello")
    actions = assistant.processes["actions"]
    actions.terminate()
    actions.wait(timeout=30)
    say(assistant, sender, "my leg went numb an hour ago")
    (conversation,) = transcript_of(assistant, sender)
    assert [m.text for m in conversation.messages if m.speaker == "user"] == ["hello", "my leg went numb an hour ago"]


def test_child_processes_get_the_transcript_settings_and_secrets(tmp_path):
    settings = Settings(data_dir=tmp_path, tracker_db=tmp_path / "tracker.db", pseudonym_key="p" * 20,
                        staff_secret_key="s" * 20, staff_port=5099)
    env = rasa_env(settings, base={})
    assert env["PSEUDONYM_KEY"] == "p" * 20 and env["STAFF_SECRET_KEY"] == "s" * 20
    assert env["DATABASE_URL"] == settings.transcripts_url and env["STAFF_PORT"] == "5099"
    assert Settings.from_env(env).transcripts_url == settings.transcripts_url
    assert "PSEUDONYM_KEY" not in rasa_env(Settings(data_dir=tmp_path, tracker_db=tmp_path / "t.db"), base={})
