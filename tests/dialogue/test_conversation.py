"""The conversation planner on scripted sessions: emergency first in every state, one question at a time."""
from __future__ import annotations

import pytest

from bot.dialogue.conversation import Conversation, Given, Turn
from bot.dialogue.picture import Picture
from bot.dialogue import replies


@pytest.fixture(scope="module")
def talk(service):
    return Conversation(service, "911")


class Session:
    """Plays a conversation through the planner the way the action does, turn by turn."""

    def __init__(self, talk):
        self.talk, self.picture, self.given, self.asked = talk, Picture(), Given(), None

    def say(self, text, intent="describe_symptoms", confidence=1.0):
        plan = self.talk.plan(Turn(text, intent, self.asked, confidence), self.picture, self.given)
        self.picture, self.given, self.asked, self.plan = plan.picture, plan.given, plan.asked, plan
        return plan

    @property
    def texts(self):
        return [reply.text for reply in self.plan.replies]

    @property
    def level(self):
        payloads = [r.payload["triage"] for r in self.plan.replies if r.payload]
        return payloads[0]["level"] if payloads else None


def test_greeting_first(talk):
    s = Session(talk)
    s.say("hello", "greet")
    assert "triage assistant" in s.texts[0] and "911" in s.texts[0] and "stored" in s.texts[0]
    assert s.asked is None


def test_one_message_fills_many_answers_and_the_screen_comes_first(talk):
    s = Session(talk)
    s.say("my left foot has been numb for three weeks, worse when I sit, and I'm diabetic")
    assert s.asked == "emergency_signs"
    assert s.texts[0].startswith("I'm the leg-numbness triage assistant. I can't diagnose")
    assert s.texts[1].startswith("From what you've told me so far, this should be checked by a doctor")
    s.say("no, none of those", "deny")
    # side, location, duration, triggers and conditions were all in the first message
    assert s.asked == "onset"
    s.say("gradually")
    assert s.asked == "pattern"
    s.say("it's there all the time")
    assert s.asked == "associated_symptoms"
    s.say("nothing else")
    assert s.asked is None and s.level == "doctor"
    result = s.texts[-1]
    assert "doctor.known_condition" not in result  # plain language, not rule ids
    assert "peripheral neuropathy" in result and "not a diagnosis" in result
    assert "nerve conduction" in result and "Call 911 straight away" in result


@pytest.mark.parametrize("state", ["greeting", "screen", "mid_collection", "after_result", "after_digression", "after_fallback"])
def test_an_emergency_sign_in_any_state_gets_the_emergency_reply_next(talk, state):
    s = Session(talk)
    lead_in = {
        "greeting": [("hi", "greet")],
        "screen": [("my right leg is numb", "describe_symptoms")],
        "mid_collection": [("my right leg is numb", "describe_symptoms"), ("no", "deny")],
        "after_result": [
            ("my foot fell asleep after sitting cross legged and it went away when i stood up", "describe_symptoms"),
            ("no", "deny"),
        ],
        "after_digression": [("my right leg is numb", "describe_symptoms"), ("what is sciatica?", "faq_sciatica")],
        "after_fallback": [("my right leg is numb", "describe_symptoms"), ("asdf qwerty", "nlu_fallback")],
    }[state]
    for text, intent in lead_in:
        s.say(text, intent)
    for _ in range(10):  # skip whatever is still asked, up to the result
        if state != "after_result" or s.asked is None:
            break
        s.say("skip", "skip_question")
    if state == "after_result":
        assert s.level == "self_care" and s.asked is None
    s.say("oh and now my husband says my speech is slurred", "describe_symptoms")
    assert s.level == "emergency"
    assert s.texts[0].startswith("EMERGENCY: call 911 now")
    assert s.asked is None  # no further questionnaire


def test_later_messages_keep_the_emergency_reminder_at_the_top(talk):
    s = Session(talk)
    s.say("I can't control my bladder and my legs are numb")
    assert s.level == "emergency"
    s.say("what is sciatica?", "faq_sciatica")
    assert s.texts[0].startswith("Reminder: you told me about \"can't control my bladder\"")
    assert "sciatic nerve" in s.texts[1]
    assert s.asked is None
    s.say("thanks", "thank")
    assert s.texts[0].startswith("Reminder:")


def test_yes_to_the_screen_is_an_emergency(talk):
    s = Session(talk)
    s.say("my calf is tingling")
    s.say("yes", "affirm")
    assert s.level == "emergency"


def test_not_sure_to_the_screen_gets_the_safety_net_and_moves_on(talk):
    s = Session(talk)
    s.say("my calf is tingling")
    s.say("I'm not sure", "dont_know")
    assert "not sure" in s.texts[0] and "call 911" in s.texts[0]
    assert s.asked == "side"


def test_only_the_weakness(talk):
    s = Session(talk)
    s.say("my calf is tingling")
    s.say("only the weakness")
    assert s.level == "emergency"


def test_correction_replaces_the_earlier_side(talk, service):
    s = Session(talk)
    s.say("my left leg is numb")
    s.say("no", "deny")
    s.say("actually it's both legs")
    sides = {f.concept for f in s.plan.decision.findings if f.concept in ("left_leg", "right_leg", "both_legs")}
    assert sides == {"both_legs"}


def test_dont_know_and_skip_are_not_asked_again(talk):
    s = Session(talk)
    s.say("my right leg is numb")
    s.say("no", "deny")
    first = s.asked
    s.say("no idea", "dont_know")
    assert s.asked != first
    second = s.asked
    s.say("skip", "skip_question")
    assert s.asked not in (first, second)


def test_a_question_in_the_middle_is_answered_then_the_question_returns(talk):
    s = Session(talk)
    s.say("my right leg is numb")
    s.say("no", "deny")
    pending = s.asked
    s.say("what is sciatica?", "faq_sciatica")
    assert "sciatic nerve" in s.texts[0]
    assert s.texts[-2:] == ["Back to my question:", replies.question(pending).text]  # the form asks the question
    assert s.asked == pending
    assert s.level is None  # asking about sciatica is not having it


@pytest.mark.parametrize("intent, text, expected", [
    ("chitchat", "how are you", "I'm here to help"),
    ("bot_challenge", "are you a bot?", "automated assistant"),
    ("out_of_scope", "what's the weather tomorrow", "I can only help with numbness"),
])
def test_small_talk_and_off_topic_then_back(talk, intent, text, expected):
    s = Session(talk)
    s.say("my right leg is numb")
    pending = s.asked
    s.say(text, intent)
    assert expected in s.texts[0]
    assert s.asked == pending


def test_start_over_forgets_the_answers(talk):
    s = Session(talk)
    s.say("my left foot has been numb for three weeks and I'm diabetic")
    s.say("start over", "start_over")
    assert s.texts == ["Okay, let's start over. What's going on with your leg or legs?"]
    s.say("my foot fell asleep after sitting cross legged and it went away when i stood up")
    assert s.plan.decision.level == "self_care"


def test_start_over_after_an_emergency_keeps_a_reminder(talk):
    s = Session(talk)
    s.say("I passed out and my legs are numb")
    s.say("start over", "start_over")
    assert s.texts[0].startswith("Reminder: you told me about \"passed out\"")


def test_start_over_with_an_emergency_in_it_is_an_emergency(talk):
    s = Session(talk)
    s.say("my right leg is numb")
    s.say("start over, my wife can't speak properly", "start_over")
    assert s.level == "emergency"


def test_asking_for_advice_early_gets_the_current_result(talk):
    s = Session(talk)
    s.say("my leg has been numb for two weeks")
    s.say("just tell me what to do", "ask_for_advice")
    assert s.level == "doctor"


def test_goodbye_before_the_end_still_gives_the_advice(talk):
    s = Session(talk)
    s.say("my leg has been numb for two weeks")
    s.say("bye", "goodbye")
    assert s.level == "doctor"
    assert s.texts[-1].startswith("Take care")


@pytest.mark.parametrize("intent", ["goodbye", "thank"])
def test_goodbye_or_thanks_with_nothing_said_still_gets_a_reply(talk, intent):
    s = Session(talk)
    s.say("bye", intent)
    assert s.texts and s.texts[0].startswith("Take care")


INTENTS = [
    "greet", "goodbye", "thank", "affirm", "deny", "dont_know", "skip_question", "start_over", "ask_for_advice",
    "bot_challenge", "chitchat", "out_of_scope", "describe_symptoms", "faq_sciatica", "faq_neuropathy", "faq_ms",
    "faq_causes", "faq_serious", "faq_diagnosis", "faq_treatment", "faq_prevention", "faq_privacy", "nlu_fallback", None,
]
LEAD_INS = [[], [("my left calf is numb", "describe_symptoms")], [("I can't walk", "describe_symptoms")]]


@pytest.mark.parametrize("intent", INTENTS)
@pytest.mark.parametrize("lead_in", range(len(LEAD_INS)), ids=["fresh", "collecting", "emergency"])
@pytest.mark.parametrize("text", ["ok", "", "my foot tingles"])
def test_every_intent_in_every_state_gets_a_reply(talk, intent, lead_in, text):
    s = Session(talk)
    for said, said_intent in LEAD_INS[lead_in]:
        s.say(said, said_intent)
    s.say(text, intent)
    assert s.texts and all(t.strip() for t in s.texts)
    if lead_in == 2:
        assert s.level == "emergency"  # the emergency stays at the top whatever comes next


@pytest.mark.parametrize("intent, confidence", [("affirm", 0.35), ("deny", 0.39), ("deny", 0.59)])
def test_an_unsure_yes_or_no_to_the_emergency_question_is_asked_again(talk, intent, confidence):
    # The classifier read "greet" as yes (0.35) and "I think so" as no (0.39): neither is an answer.
    s = Session(talk)
    s.say("my left foot is numb")
    assert s.asked == "emergency_signs"
    s.say("greet", intent, confidence)
    assert s.asked == "emergency_signs" and s.level != "emergency"
    assert s.texts[0] == "Sorry, I didn't quite get that."
    s.say("yes", "affirm", 0.99)  # a clear yes then is the emergency
    assert s.level == "emergency"


def test_a_clear_no_to_the_emergency_question_goes_on(talk):
    s = Session(talk)
    s.say("my left foot is numb")
    s.say("no", "deny", 0.6)
    assert s.asked not in (None, "emergency_signs") and s.level != "emergency"


# ---------------------------------------------------------------- signs only one detector found

BREATHING_IN_OTHER_WORDS = "my leg is numb and my lungs won't fill up"  # the embedding alone finds it


def test_a_sign_only_one_detector_found_is_asked_back_first_and_yes_is_the_emergency(talk):
    s = Session(talk)
    s.say(BREATHING_IN_OTHER_WORDS)
    assert s.asked == "confirm:difficulty_breathing"
    assert s.texts[-1].endswith("Are you having trouble breathing right now?")
    assert s.plan.replies[-1].buttons == ("Yes", "No")
    # The question comes before anything else; its payload shows staff the sign in question.
    assert s.level == "undetermined" and s.plan.replies[-1].payload["triage"]["suspected"] == ["difficulty_breathing"]
    found = s.plan.replies[-1].payload["triage"]["findings"]
    assert [(f["concept"], f["detected_by"], f.get("suspected")) for f in found] == [
        ("difficulty_breathing", ["embedding"], True)]
    s.say("yes", "affirm")
    assert s.level == "emergency" and s.texts[0].startswith("EMERGENCY")
    assert s.plan.decision.red_flags == ["emergency.difficulty_breathing"]
    assert s.asked is None


def test_a_clear_no_to_the_sign_goes_on_and_it_is_not_asked_again(talk):
    s = Session(talk)
    s.say(BREATHING_IN_OTHER_WORDS)
    s.say("no", "deny")
    assert not s.plan.decision.is_emergency and s.plan.decision.suspected == ()
    assert s.asked == "emergency_signs"  # on to the questionnaire, screen first
    s.say("none of those", "deny")
    assert s.asked not in (None, "confirm:difficulty_breathing") and not s.plan.decision.is_emergency


def test_an_unclear_answer_to_the_sign_asks_it_again_and_says_why(talk):
    s = Session(talk)
    s.say(BREATHING_IN_OTHER_WORDS)
    s.say("hmm", "nlu_fallback")
    assert s.asked == "confirm:difficulty_breathing"
    assert any("clear yes or no" in text and "911" in text for text in s.texts)
    s.say("yes", "affirm", confidence=0.4)  # a yes the classifier is unsure of is no answer either
    assert s.asked == "confirm:difficulty_breathing" and not s.plan.decision.is_emergency


def test_an_answer_to_the_confirmation_is_still_read_for_signs_first(talk):
    s = Session(talk)
    s.say(BREATHING_IN_OTHER_WORDS)
    s.say("no, but I can't control my bladder", "deny")
    assert s.level == "emergency" and s.texts[0].startswith("EMERGENCY")


def test_a_yes_to_the_screen_that_goes_on_in_the_persons_own_words_is_the_emergency(talk):
    s = Session(talk)
    s.say("numbness in my right leg from the hip right down to my toes")
    assert s.asked == "emergency_signs"
    # The classifier calls this a description, not a yes: the yes at its start still answers.
    s.say("yeah actually, about an hour ago my words came out all mushed up for a few minutes", "describe_symptoms")
    assert s.level == "emergency"


def test_a_yes_that_turns_into_a_no_is_not_taken_as_yes(talk):
    s = Session(talk)
    s.say("numbness in my right leg from the hip right down to my toes")
    s.say("yes, no, none of those", "describe_symptoms")
    assert s.level != "emergency"


def test_a_start_over_that_begins_with_yes_is_not_a_yes_to_the_emergency_question(talk):
    # "start over" is read on its own words, as it was before the picture: the pending screening
    # question does not turn its "yeah" into a yes to the emergency signs.
    s = Session(talk)
    s.say("my right leg is numb")
    assert s.asked == "emergency_signs"
    s.say("yeah, let's start over", "start_over")
    assert s.texts == ["Okay, let's start over. What's going on with your leg or legs?"]
    assert not s.plan.decision.is_emergency and s.given.emergency is False
