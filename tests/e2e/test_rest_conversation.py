"""End to end: the real Rasa server and action server, conversations over the REST channel."""
from __future__ import annotations

import json
import socket
import sqlite3
import urllib.request
import uuid
from pathlib import Path

import pytest

from bot.serve import Assistant
from bot.settings import PROJECT_ROOT, Settings

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("assistant")
    settings = Settings(
        rasa_port=free_port(),
        action_port=free_port(),
        data_dir=data_dir,
        tracker_db=data_dir / "tracker.db",
        model_path=MODEL,
    )
    with Assistant(settings, quiet=True) as running:
        yield running


def say(assistant, sender, text):
    request = urllib.request.Request(
        assistant.settings.rasa_url + "/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def triage_of(messages):
    found = [m["custom"]["triage"] for m in messages if isinstance(m.get("custom"), dict) and "triage" in m["custom"]]
    return found[0] if found else None


def new_sender():
    return f"test-{uuid.uuid4().hex[:8]}"


def converse(assistant, sender, texts):
    """Sends each text in turn; returns the reply to each."""
    return [say(assistant, sender, text) for text in texts]


def test_doctor_path_from_greeting_to_result(assistant):
    sender = new_sender()
    greeting = say(assistant, sender, "hello")
    assert "triage assistant" in greeting[0]["text"] and "911" in greeting[0]["text"]
    first = say(assistant, sender, "my left foot has been numb for three weeks, worse when I sit, and I'm diabetic")
    assert triage_of(first)["level"] == "doctor"  # said early, with the reasons still to come
    assert first[-1]["text"].startswith("Some signs need emergency care")
    assert [b["title"] for b in first[-1]["buttons"]] == ["None of those", "I'm not sure"]
    replies = converse(assistant, sender, ["None of those", "Gradually", "All the time", "Nothing else"])
    final = triage_of(replies[-1])
    assert final["level"] == "doctor"
    assert "doctor.known_condition" in final["rules"]
    assert any(r["source"] == "000_88291621b930fbc3.txt" for r in final["reasons"])
    text = " ".join(m.get("text", "") for m in replies[-1])
    assert "peripheral neuropathy" in text and "not a diagnosis" in text


def test_self_care_path(assistant):
    sender = new_sender()
    first = say(assistant, sender, "my foot fell asleep after sitting cross legged and it went away when i stood up")
    assert first[-1]["text"].startswith("Some signs need emergency care")
    replies = converse(assistant, sender, ["no", "my left foot", "gradually", "it comes and goes", "nothing else", "no known conditions"])
    assert triage_of(replies[-1])["level"] == "self_care"


@pytest.mark.parametrize("turn", [1, 2, 3, 4])
def test_an_emergency_sign_at_any_turn_gets_the_emergency_reply_next(assistant, turn):
    sender = new_sender()
    for text in ["hi", "my right leg feels numb", "no", "what is sciatica?"][: turn - 1]:
        say(assistant, sender, text)
    reply = say(assistant, sender, "and now I can't control my bladder")
    decision = triage_of(reply)
    assert decision and decision["level"] == "emergency", reply
    assert reply[0]["text"].startswith("EMERGENCY: call 911")
    later = say(assistant, sender, "ok thanks")
    assert later[0]["text"].startswith("Reminder:")


def test_a_denied_red_flag_is_not_an_emergency(assistant):
    reply = say(assistant, new_sender(), "my left foot is tingly but I have NO bladder problems")
    assert triage_of(reply) is None
    assert reply[-1]["text"].startswith("Some signs need emergency care")


def test_start_over(assistant):
    sender = new_sender()
    converse(assistant, sender, ["my left leg has been numb for two weeks", "no"])
    reply = say(assistant, sender, "start over")
    assert reply[0]["text"].startswith("Okay, let's start over")


def test_the_conversation_is_stored_in_the_sqlite_tracker_store(assistant):
    sender = new_sender()
    say(assistant, sender, "my leg is numb")
    with sqlite3.connect(Path(assistant.settings.tracker_db)) as db:
        rows = db.execute("select type_name from events where sender_id = ?", (sender,)).fetchall()
    kinds = [row[0] for row in rows]
    assert "user" in kinds and "bot" in kinds


# Odd, hostile and repeated input: tests/e2e/test_bad_input.py.


def test_an_emergency_sign_inside_a_very_long_message_is_found(assistant):
    reply = say(assistant, new_sender(), "my leg is numb. " * 200 + "I can't control my bladder")
    assert triage_of(reply)["level"] == "emergency"


def test_a_sign_only_the_embedding_found_is_asked_back_and_a_yes_is_the_emergency(assistant):
    sender = new_sender()
    first = say(assistant, sender, "my leg is numb and my lungs won't fill up")
    question = [message for message in first if "text" in message][-1]  # the decision comes apart, as custom data
    assert question["text"].endswith("Are you having trouble breathing right now?")
    assert [button["title"] for button in question["buttons"]] == ["Yes", "No"]
    assert triage_of(first)["suspected"] == ["difficulty_breathing"] and triage_of(first)["level"] != "emergency"
    reply = say(assistant, sender, "Yes")
    assert reply[0]["text"].startswith("EMERGENCY: call 911") and triage_of(reply)["level"] == "emergency"


def test_a_no_to_the_sign_asked_back_goes_on_to_the_questions(assistant):
    sender = new_sender()
    say(assistant, sender, "my leg is numb and my lungs won't fill up")
    reply = say(assistant, sender, "No")
    texts = [message["text"] for message in reply if "text" in message]
    assert texts[-1].startswith("Some signs need emergency care")
    assert not any(text.startswith("EMERGENCY") for text in texts)
