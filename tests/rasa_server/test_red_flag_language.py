"""The red-flag component in the Rasa server: messages in other languages are not guessed at."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_server.red_flags import RED_FLAG_ENTITY, RedFlagDetector


def processed(service, text, guessed="affirm"):
    message = Message({TEXT: text, INTENT: {"name": guessed, "confidence": 0.43}})
    RedFlagDetector(service).process([message])
    return message


@pytest.mark.parametrize("text", ["我的腿麻木", "رجلي مخدرة منذ أسبوعين", "у меня онемела нога"])
def test_a_message_in_another_language_is_not_classified_by_guess(service, text):
    # The classifier guessed "affirm" for these; as an answer to the emergency question that was a false emergency.
    assert processed(service, text).get(INTENT)["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", ["yes", "yess i doo", "i'm diabetic", "sí", "Ma jambe gauche est engourdie"])
def test_latin_script_keeps_the_classifier_intent(service, text):
    assert processed(service, text).get(INTENT)["name"] == "affirm"


def test_a_red_flag_is_marked_and_the_intent_kept(service):
    flagged = processed(service, "my legs are numb and I can't control my bladder", "describe_symptoms")
    assert flagged.get(INTENT)["name"] == "describe_symptoms"
    assert any(entity["entity"] == RED_FLAG_ENTITY for entity in flagged.get(ENTITIES))


def test_the_safety_net_reads_with_both_detectors_and_flags_only_what_counts(service):
    # The Rasa server's own check uses the same two detectors as the action server.
    assert service.pipeline.signs is not None
    both = processed(service, "my legs are numb and I can't control my bladder", "describe_symptoms")
    assert both.get("triage")["level"] == "emergency"
    (finding,) = [f for f in both.get("triage")["findings"] if f["concept"] == "bladder_bowel_loss"]
    assert finding["detected_by"] == ["patterns", "embedding"]
    # A sign only the embedding found is asked back by the conversation, not flagged here.
    suspected = processed(service, "my leg is numb and my lungs won't fill up", "describe_symptoms")
    assert not any(entity["entity"] == RED_FLAG_ENTITY for entity in suspected.get(ENTITIES) or [])
    assert suspected.get("triage") is None or suspected.get("triage")["level"] != "emergency"
