"""domain.yml and data/rules agree: every intent reaches the emergency rule and the triage action,
digressions return to symptom_form, and the form has a slot and a question for every question of
the rulebook."""
from __future__ import annotations

from collections import Counter

import yaml

from bot.dialogue import replies
from bot.dialogue.conversation import is_digression
from bot.dialogue.picture import ANSWERED_SLOT, FINDINGS_SLOT, MESSAGES_SLOT
from bot.settings import PROJECT_ROOT
from bot.triage.rulebook import load_rulebook

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
RULES = PROJECT_ROOT / "data" / "rules"
FALLBACK = "nlu_fallback"  # Rasa's own intent, not listed in the domain


def intents_of_domain():
    return {*(next(iter(i)) if isinstance(i, dict) else i for i in DOMAIN["intents"]), FALLBACK}


def rules(file_name):
    return yaml.safe_load((RULES / file_name).read_text())["rules"]


def intents_of(alternatives):
    covered = Counter(step["intent"] for step in alternatives["or"])
    assert max(covered.values()) == 1
    return covered


def test_the_emergency_rule_answers_every_intent_with_a_red_flag_first_inside_the_form_too():
    outside, inside = rules("safety.yml")
    for rule in (outside, inside):
        (alternatives, *actions) = rule["steps"]
        assert all(step["entities"] == ["red_flag"] for step in alternatives["or"])
        assert set(intents_of(alternatives)) == intents_of_domain(), f"an intent is missing from (or unknown to) {rule['rule']!r}"
    assert "condition" not in outside and outside["steps"][1:] == [{"action": "utter_emergency"}, {"action": "action_triage"}]
    # Inside the form: the same advice first, and the form ends before the reasons.
    assert inside["condition"] == [{"active_loop": "symptom_form"}]
    assert inside["steps"][1:] == [{"action": "utter_emergency"}, {"action": "action_deactivate_loop"},
                                   {"active_loop": None}, {"action": "action_triage"}]


def test_every_intent_is_answered_by_the_triage_action():
    answered = Counter()
    for rule in rules("triage.yml"):
        (intent_step, action_step) = rule["steps"]
        assert action_step == {"action": "action_triage"}, rule["rule"]
        answered[intent_step["intent"]] += 1
    assert set(answered) == intents_of_domain() and max(answered.values()) == 1


def test_inside_the_form_every_digression_is_answered_and_the_form_goes_on():
    digression, completion = rules("symptom_form.yml")
    assert digression["condition"] == completion["condition"] == [{"active_loop": "symptom_form"}]
    (alternatives, *after) = digression["steps"]
    covered = set(intents_of(alternatives))
    assert covered == {intent for intent in intents_of_domain() if is_digression(intent)} and covered
    assert after == [{"action": "action_triage"}, {"action": "symptom_form"}, {"active_loop": "symptom_form"}]
    assert completion["steps"] == [{"action": "symptom_form"}, {"active_loop": None}, {"slot_was_set": [{"requested_slot": None}]}]


def test_the_form_asks_every_question_of_the_rulebook_with_a_domain_response():
    questions = [question.id for question in load_rulebook().questions]
    assert DOMAIN["forms"]["symptom_form"]["required_slots"] == questions
    assert set(questions) == set(replies.questions())
    assert {f"utter_ask_{q}" for q in questions} <= set(DOMAIN["responses"])
    assert "validate_symptom_form" in DOMAIN["actions"]


def test_the_symptom_picture_has_a_slot_for_every_question_of_the_rulebook():
    questions = {question.id for question in load_rulebook().questions}
    slots = DOMAIN["slots"]
    assert questions | {FINDINGS_SLOT, ANSWERED_SLOT, MESSAGES_SLOT} <= set(slots)
    for name in questions | {FINDINGS_SLOT, ANSWERED_SLOT, MESSAGES_SLOT}:
        assert slots[name]["influence_conversation"] is False and slots[name]["mappings"] == [{"type": "custom"}]
