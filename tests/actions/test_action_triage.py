"""action_triage on tracker fixtures with a CollectingDispatcher: no server needed."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.action_triage import ActionTriage, turns_this_session


def tracker_for(*turns, slots=None):
    """turns: (text, intent) pairs; each is followed by the action and the slot it set."""
    events = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"}]
    for text, intent, asked in turns:
        events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}})
        events.append({"event": "action", "name": "action_triage"})
        events.append({"event": "slot", "name": "requested_question", "value": asked})
    # The latest message has no reply yet: drop the action and slot that follow it.
    events = events[:-2]
    text, intent, _ = turns[-1]
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}}
    return Tracker("user-1", slots or {}, latest, events, False, None, {}, "action_listen")


def run(tracker):
    dispatcher = CollectingDispatcher()
    events = ActionTriage().run(dispatcher, tracker, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def payloads(messages):
    return [m["custom"]["triage"] for m in messages if m.get("custom")]


def test_turns_carry_the_question_that_was_pending():
    tracker = tracker_for(("my leg is numb", "describe_symptoms", "emergency_signs"), ("no", "deny", None))
    tracker.events.insert(0, {"event": "user", "text": "before the session"})
    assert [(t.text, t.intent, t.asked) for t in turns_this_session(tracker)] == [
        ("my leg is numb", "describe_symptoms", None),
        ("no", "deny", "emergency_signs"),
    ]


def test_emergency_in_the_latest_message_gets_the_emergency_reply(monkeypatch):
    monkeypatch.setenv("EMERGENCY_NUMBER", "112")
    from actions.action_triage import conversation

    conversation.reset()  # rebuilt with the new number
    try:
        messages, slots = run(tracker_for(("my leg is numb", "describe_symptoms", "emergency_signs"),
                                          ("and now I can't control my bladder", "describe_symptoms", None)))
    finally:
        conversation.reset()
    assert payloads(messages)[0]["level"] == "emergency"
    assert messages[0]["text"].startswith("EMERGENCY: call 112 now")
    assert len(messages) == 1 and slots["requested_question"] is None and slots["emergency_given"] is True


def test_greeting_then_the_screening_question_with_quick_replies():
    messages, slots = run(tracker_for(("hello", "greet", None)))
    assert "triage assistant" in messages[0]["text"] and slots["requested_question"] is None
    messages, slots = run(tracker_for(("hello", "greet", None), ("my calf tingles", "describe_symptoms", None)))
    assert messages[-1]["text"].startswith("Some signs need emergency care")
    assert [b["title"] for b in messages[-1]["buttons"]] == ["None of those", "I'm not sure"]
    assert slots["requested_question"] == "emergency_signs"


def test_doctor_level_is_announced_and_remembered():
    messages, slots = run(tracker_for(("my left foot has been numb for three weeks and I'm diabetic", "describe_symptoms", None)))
    assert messages[1]["text"].startswith("From what you've told me so far")
    assert slots["triage_given"] == "interim:doctor"


@pytest.mark.parametrize("text", ["", "   ", "\u200b"])
def test_empty_messages_do_not_crash(text):
    messages, _ = run(tracker_for((text, "nlu_fallback", None)))
    assert messages
