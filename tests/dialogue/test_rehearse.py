"""The conversation scorer of `make eval`: scripts played through the real planner, turn by turn."""
from __future__ import annotations

import asyncio

import pytest

from bot.dialogue.conversation import Conversation
from devtools.rehearse import Player, Script, score


class KeywordNLU:
    """Stands in for the trained model's NLU (the real one is used by `make eval`): yes, no, or a description."""

    async def parse_message(self, text):
        word = text.lower().split()[0].strip(",.") if text.strip() else ""
        intent = {"yes": "affirm", "no": "deny", "none": "deny", "skip": "skip_question"}.get(word, "describe_symptoms")
        return {"intent": {"name": intent, "confidence": 0.99}}


@pytest.fixture(scope="module")
def player(service):
    return Player(Conversation(service, "911"), KeywordNLU())


def play(player, script):
    return asyncio.run(player.play(script))


def test_a_sign_asked_back_gets_the_truthful_answer_and_an_emergency_script_ends_in_an_emergency(player):
    played = play(player, Script("c1", "emergency", "my leg is numb and my lungs won't fill up", {}, "emergency"))
    assert played.level == "emergency"
    assert played.turns == [("", "my leg is numb and my lungs won't fill up"), ("confirm:difficulty_breathing", "yes")]


def test_a_non_emergency_script_says_no_to_the_sign_and_goes_on_through_the_questions(player):
    answers = {"emergency_signs": "none of those", "side": "left leg", "onset": "gradually over weeks",
               "pattern": "it's there all the time", "associated_symptoms": "none", "conditions": "I'm diabetic"}
    played = play(player, Script("c2", "doctor", "my leg is numb and my lungs won't fill up, for three weeks", answers, "doctor"))
    assert ("confirm:difficulty_breathing", "no") in played.turns
    assert played.level == "doctor"
    scores = score([played])
    assert scores["ALL"].count == 1 and scores["ALL"].level_correct == 1 and scores["ALL"].false_emergencies == 0


def test_a_question_that_comes_back_is_skipped_as_a_person_would(player):
    played = play(player, Script("c3", "doctor", "my foot is numb", {"emergency_signs": "hmm"}, "doctor"))
    asked = [a for a, _ in played.turns]
    assert asked.count("emergency_signs") == 2 and played.turns[2] == ("emergency_signs", "skip")
