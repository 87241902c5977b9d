"""Messages the planner cannot read as usual get a notice, and the emergency headline is said once."""
from __future__ import annotations

import dataclasses

import pytest

from bot.dialogue.conversation import Conversation, Given, Turn
from bot.nlp.pipeline import DETAIL_CHARS


@pytest.fixture(scope="module")
def talk(service):
    return Conversation(service, "911")


def texts(plan):
    return [reply.text for reply in plan.replies]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_message_is_asked_to_type_something(talk, text):
    plan = talk.replay([Turn("my left leg is numb", "describe_symptoms"), Turn(text, "nlu_fallback", "emergency_signs")])
    assert texts(plan)[0].startswith("I didn't receive any words")
    assert "911" in texts(plan)[0]
    assert plan.asked == "emergency_signs"  # the pending question comes back


@pytest.mark.parametrize("text", ["me duele la pierna desde ayer", "رجلي مخدرة", "Мою ногу онемела", "我的腿麻了"])
def test_another_language_is_told_only_english_is_understood(talk, text):
    plan = talk.replay([Turn(text, "nlu_fallback")])
    assert texts(plan)[0].startswith("Sorry, I can only understand English")
    assert not any("didn't quite get that" in t for t in texts(plan))


@pytest.mark.parametrize("text", ["my lef leg is numbbb sinse yestrday", "idk", "left", "i don't know", "I don’t know tbh"])
def test_english_with_typos_is_never_called_foreign(talk, text):
    plan = talk.replay([Turn("my leg is numb", "describe_symptoms"), Turn(text, "nlu_fallback", "side")])
    assert not any("only understand English" in t for t in texts(plan))


def test_a_very_long_message_gets_the_notice_and_is_still_triaged(talk):
    text = "my left foot has been numb for three weeks. " + "it is annoying. " * (DETAIL_CHARS // 10)
    plan = talk.replay([Turn(text, "describe_symptoms")])
    assert texts(plan)[0].startswith("That was a very long message")
    assert plan.asked  # the questionnaire goes on


def test_a_very_long_message_with_an_emergency_sign_at_the_end_is_an_emergency(talk):
    text = "my left foot has been numb. " * 300 + "and I can't control my bladder"
    plan = talk.replay([Turn(text, "describe_symptoms")])
    assert plan.decision.is_emergency and texts(plan)[0].startswith("EMERGENCY")


def test_after_the_rasa_server_gave_the_headline_the_action_gives_only_the_reasons(talk):
    turn = Turn("I can't control my bladder", "describe_symptoms")
    full = talk.plan(turn, given=Given())
    after_headline = talk.plan(turn, given=dataclasses.replace(Given(), announced=True))
    assert texts(full)[0].startswith("EMERGENCY: call 911")
    assert texts(after_headline)[0].startswith("Why this needs emergency care (call 911 now):")
    assert "EMERGENCY" not in texts(after_headline)[0]
    assert after_headline.replies[0].payload == full.replies[0].payload  # same decision, same sources
