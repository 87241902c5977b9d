"""action_triage on tracker fixtures with a CollectingDispatcher: no server needed."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.action_triage import ActionTriage, user_texts_this_session


def tracker_for(*turns, intent="describe_symptoms"):
    events = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"}]
    for text in turns:
        events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}})
        events.append({"event": "action", "name": "action_triage"})
    latest = {"text": turns[-1], "intent": {"name": intent, "confidence": 0.9}}
    return Tracker("user-1", {}, latest, events, False, None, {}, "action_listen")


def run(tracker):
    dispatcher = CollectingDispatcher()
    ActionTriage().run(dispatcher, tracker, {})
    return dispatcher.messages


def payloads(messages):
    return [m["custom"]["triage"] for m in messages if m.get("custom")]


def test_texts_are_collected_since_the_session_started():
    tracker = tracker_for("old", "hello")
    tracker.events.insert(0, {"event": "user", "text": "before the session"})
    assert user_texts_this_session(tracker) == ["old", "hello"]


def test_emergency_in_the_latest_message_gets_the_emergency_reply(monkeypatch):
    monkeypatch.setenv("EMERGENCY_NUMBER", "112")
    messages = run(tracker_for("my leg is numb", "and now I can't control my bladder"))
    assert payloads(messages)[0]["level"] == "emergency"
    assert messages[0]["text"].startswith("EMERGENCY: call 112 now")
    assert len(messages) == 1  # no further questions


def test_emergency_applies_even_to_a_greeting():
    messages = run(tracker_for("hi, my husband's speech is slurred", intent="greet"))
    assert payloads(messages)[0]["level"] == "emergency"


def test_plain_greeting_gets_the_greeting():
    messages = run(tracker_for("hello", intent="greet"))
    assert "triage assistant" in messages[0]["text"] and "call 911 now" in messages[0]["text"]


def test_doctor_result_then_the_next_question():
    messages = run(tracker_for("my left foot has been numb for three weeks, worse when I sit, and I'm diabetic"))
    assert payloads(messages)[0]["level"] == "doctor"
    assert "doctor.known_condition" in payloads(messages)[0]["rules"]
    assert messages[-1]["text"].startswith("Some signs need emergency care")
    assert [b["title"] for b in messages[-1]["buttons"]] == ["None of those", "I'm not sure"]


def test_undetermined_asks_for_what_is_missing():
    messages = run(tracker_for("I have NO bladder problems"))
    assert payloads(messages) == []
    assert messages[0]["text"].startswith("Some signs need emergency care")


@pytest.mark.parametrize("text", ["", "   ", "\u200b"])
def test_empty_messages_do_not_crash(text):
    assert run(tracker_for(text))
