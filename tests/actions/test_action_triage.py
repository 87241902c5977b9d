"""action_triage and validate_symptom_form on tracker fixtures with a CollectingDispatcher: no server needed."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.action_triage import ActionTriage
from actions.symptom_form import ValidateSymptomForm
from actions.turn import latest_turn
from bot.dialogue.replies import question, questions
from bot.nlp.findings import Finding


def tracker_for(text, intent, slots=None, events=(), findings=None, entities=(), active_loop=None):
    """The tracker the action server gets for a new message: the slots so far, and the events
    since the message (Rasa's remote action sends no more, see bot.rasa_server.actions)."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": list(entities)}
    if findings is not None:  # what the Rasa server's language layer read in it
        latest["findings"] = [finding.as_record() for finding in findings]
    user = {"event": "user", "text": text, "parse_data": latest}
    loop = {"name": active_loop} if active_loop else {}
    return Tracker("user-1", dict(slots or {}), latest, [user, *events], False, None, loop, "action_listen")


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def run(tracker):
    dispatcher = CollectingDispatcher()
    events = ActionTriage().run(dispatcher, tracker, {})
    return dispatcher.messages, slot_events(events)


def validate(tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateSymptomForm().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


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
    from actions.turn import conversation

    text = "my left foot has been numb for three weeks and I'm diabetic"
    findings = service.pipeline.findings(text)
    monkeypatch.setattr(conversation.get().service.pipeline, "findings", lambda text: pytest.fail("read again"))
    messages, slots = run(tracker_for(text, "describe_symptoms", findings=findings))
    assert slots["side"] == ["left_leg"] and slots["conditions"] == ["diabetes"]
    assert [Finding.from_record(record) for record in slots["findings"]] == list(findings)
    assert slots["requested_question"] == "emergency_signs"


def test_emergency_in_the_latest_message_gets_the_emergency_reply(monkeypatch):
    monkeypatch.setenv("EMERGENCY_NUMBER", "112")
    from actions.turn import conversation

    conversation.reset()  # rebuilt with the new number
    try:
        messages, slots, _ = talk(("my leg is numb", "describe_symptoms"), ("and now I can't control my bladder", "describe_symptoms"))
    finally:
        conversation.reset()
    assert payloads(messages)[0]["level"] == "emergency"
    assert messages[0]["text"].startswith("EMERGENCY: call 112 now")
    assert len(messages) == 1 and slots["requested_question"] is None and slots["emergency_given"] is True


def test_greeting_then_symptom_form_asks_the_screening_question_with_quick_replies():
    messages, _, slots = talk(("hello", "greet"))
    assert "triage assistant" in messages[0]["text"] and slots.get("requested_question") is None
    dispatcher = CollectingDispatcher()
    events = ActionTriage().run(dispatcher, tracker_for("my calf tingles", "describe_symptoms", slots), {})
    # The action does not ask the question: it starts the form, which asks utter_ask_emergency_signs.
    assert not any(m["text"].startswith("Some signs need emergency care") for m in dispatcher.messages)
    assert {"event": "active_loop", "name": "symptom_form", "timestamp": None} in events
    assert slot_events(events)["requested_slot"] == slot_events(events)["requested_question"] == "emergency_signs"
    asked = question("emergency_signs")
    assert asked.text.startswith("Some signs need emergency care") and asked.buttons == ("None of those", "I'm not sure")


def test_the_form_reads_an_answer_fills_slots_and_picks_the_next_question():
    _, _, slots = talk(("my left calf has tingled for three weeks", "describe_symptoms"))
    messages, events = validate(tracker_for("none of those", "deny", slots, active_loop="symptom_form"))
    changed = slot_events(events)
    assert changed["emergency_signs"] == ["red_flags_denied"] and changed["requested_slot"] == changed["requested_question"]
    assert changed["requested_slot"] in {"onset", "pattern", "triggers", "associated_symptoms", "conditions"}
    assert not any(m["text"] == question(changed["requested_slot"]).text for m in messages)  # the form asks it


def test_the_form_ends_with_the_result_when_the_rulebook_needs_no_more_answers():
    _, _, slots = talk(("my foot went numb after sitting cross legged and it went away when I stood up", "describe_symptoms"))
    for _ in questions():
        messages, events = validate(tracker_for("no", "deny", slots, active_loop="symptom_form"))
        slots.update(slot_events(events))
        if slots["requested_slot"] is None:
            break
    assert slots["requested_slot"] is None and slots["requested_question"] is None
    assert payloads(messages)[-1]["level"] == "self_care" and slots["triage_given"].startswith("result:self_care")


@pytest.mark.parametrize("intent,entities", [
    ("describe_symptoms", [{"entity": "red_flag", "value": "can't control my bladder"}]),
    ("faq_sciatica", []),
    ("chitchat", []),
])
def test_the_form_rejects_an_emergency_sign_and_digressions_so_rasa_rules_answer(intent, entities):
    messages, events = validate(tracker_for("whatever they said", intent, {"requested_question": "side"},
                                            entities=entities, active_loop="symptom_form"))
    assert events == [] and messages == []


def test_back_in_the_form_after_a_digression_the_pending_question_is_asked_again():
    answered = [{"event": "action", "name": "action_triage"}]
    for pending, slot in (("side", "side"), ("confirm:breathing", None)):
        messages, events = validate(tracker_for("what is sciatica?", "faq_sciatica", {"requested_question": pending},
                                                events=answered, active_loop="symptom_form"))
        assert events == [{"event": "slot", "name": "requested_slot", "value": slot, "timestamp": None}] and messages == []


def test_outside_a_question_the_triage_action_ends_the_form():
    dispatcher = CollectingDispatcher()
    events = ActionTriage().run(dispatcher, tracker_for("bye", "goodbye", {"requested_question": "side"}, active_loop="symptom_form"), {})
    assert {"event": "active_loop", "name": None, "timestamp": None} in events


def test_doctor_level_is_announced_and_remembered():
    messages, slots, _ = talk(("my left foot has been numb for three weeks and I'm diabetic", "describe_symptoms"))
    assert messages[1]["text"].startswith("From what you've told me so far")
    assert slots["triage_given"] == "interim:doctor"


@pytest.mark.parametrize("text", ["", "   ", "\u200b"])
def test_empty_messages_do_not_crash(text):
    messages, _, _ = talk((text, "nlu_fallback"))
    assert messages
