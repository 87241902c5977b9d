"""action_triage on tracker fixtures with a CollectingDispatcher: no server needed."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.action_triage import ActionTriage, latest_turn
from bot.nlp.findings import Finding


def tracker_for(text, intent, slots=None, events=(), findings=None):
    """The tracker the action server gets for a new message: the slots so far, and the events
    since the message (Rasa's remote action sends no more, see bot.rasa_server.actions)."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}}
    if findings is not None:  # what the Rasa server's language layer read in it
        latest["findings"] = [finding.as_record() for finding in findings]
    user = {"event": "user", "text": text, "parse_data": latest}
    return Tracker("user-1", dict(slots or {}), latest, [user, *events], False, None, {}, "action_listen")


def run(tracker):
    dispatcher = CollectingDispatcher()
    events = ActionTriage().run(dispatcher, tracker, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def talk(*turns):
    """Plays (text, intent) turns through the action as Rasa would, the slots it sets carried to
    the next turn; returns the last turn's messages, the slots it set, and all slots."""
    slots = {}
    for text, intent in turns:
        messages, changed = run(tracker_for(text, intent, slots))
        slots.update(changed)
    return messages, changed, slots


def payloads(messages):
    return [m["custom"]["triage"] for m in messages if m.get("custom")]


def test_the_latest_message_is_read_with_the_question_that_was_pending():
    tracker = tracker_for("no", "deny", {"requested_question": "emergency_signs"})
    turn = latest_turn(tracker)
    assert (turn.text, turn.intent, turn.asked, turn.confidence) == ("no", "deny", "emergency_signs", 0.9)


def test_the_symptom_picture_fills_the_slots_and_only_changes_are_sent():
    _, changed, slots = talk(("my left foot has been numb for three weeks and I'm diabetic", "describe_symptoms"))
    assert slots["side"] == ["left_leg"] and slots["location"] == ["foot"] and slots["conditions"] == ["diabetes"]
    assert slots["duration"] == ["duration"] and "onset" not in slots and slots["messages_read"] == 1.0
    assert {f["concept"]: f["status"] for f in slots["findings"]}["diabetes"] == "present"
    messages, changed, slots = talk(("my left foot has been numb for three weeks and I'm diabetic", "describe_symptoms"),
                                    ("actually it's both legs", "describe_symptoms"))
    assert slots["side"] == ["both_legs"]  # the correction replaced the earlier side
    assert "location" not in changed and "conditions" not in changed  # unchanged slots are not set again
    assert slots["conditions"] == ["diabetes"] and slots["messages_read"] == 2.0


def test_the_findings_the_rasa_server_read_are_used_and_the_text_is_not_read_again(monkeypatch, service):
    from actions.action_triage import conversation

    text = "my left foot has been numb for three weeks and I'm diabetic"
    findings = service.pipeline.findings(text)
    monkeypatch.setattr(conversation.get().service.pipeline, "findings", lambda text: pytest.fail("read again"))
    messages, slots = run(tracker_for(text, "describe_symptoms", findings=findings))
    assert slots["side"] == ["left_leg"] and slots["conditions"] == ["diabetes"]
    assert [Finding.from_record(record) for record in slots["findings"]] == list(findings)
    assert slots["requested_question"] == "emergency_signs"


def test_emergency_in_the_latest_message_gets_the_emergency_reply(monkeypatch):
    monkeypatch.setenv("EMERGENCY_NUMBER", "112")
    from actions.action_triage import conversation

    conversation.reset()  # rebuilt with the new number
    try:
        messages, slots, _ = talk(("my leg is numb", "describe_symptoms"), ("and now I can't control my bladder", "describe_symptoms"))
    finally:
        conversation.reset()
    assert payloads(messages)[0]["level"] == "emergency"
    assert messages[0]["text"].startswith("EMERGENCY: call 112 now")
    assert len(messages) == 1 and slots["requested_question"] is None and slots["emergency_given"] is True


def test_greeting_then_the_screening_question_with_quick_replies():
    messages, _, slots = talk(("hello", "greet"))
    assert "triage assistant" in messages[0]["text"] and slots.get("requested_question") is None
    messages, slots, _ = talk(("hello", "greet"), ("my calf tingles", "describe_symptoms"))
    assert messages[-1]["text"].startswith("Some signs need emergency care")
    assert [b["title"] for b in messages[-1]["buttons"]] == ["None of those", "I'm not sure"]
    assert slots["requested_question"] == "emergency_signs"


def test_doctor_level_is_announced_and_remembered():
    messages, slots, _ = talk(("my left foot has been numb for three weeks and I'm diabetic", "describe_symptoms"))
    assert messages[1]["text"].startswith("From what you've told me so far")
    assert slots["triage_given"] == "interim:doctor"


@pytest.mark.parametrize("text", ["", "   ", "\u200b"])
def test_empty_messages_do_not_crash(text):
    messages, _, _ = talk((text, "nlu_fallback"))
    assert messages
