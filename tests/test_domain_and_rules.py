"""domain.yml and data/rules agree: every intent reaches the emergency rule and the triage action,
and the symptom picture has a slot for every question of the rulebook."""
from __future__ import annotations

from collections import Counter

import yaml

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


def test_the_emergency_rule_answers_every_intent_with_a_red_flag_first():
    (rule,) = rules("safety.yml")
    (alternatives, *actions) = rule["steps"]
    covered = Counter(step["intent"] for step in alternatives["or"])
    assert all(step["entities"] == ["red_flag"] for step in alternatives["or"])
    assert set(covered) == intents_of_domain(), "an intent is missing from (or unknown to) the emergency rule"
    assert max(covered.values()) == 1
    assert actions == [{"action": "utter_emergency"}, {"action": "action_triage"}]


def test_every_intent_is_answered_by_the_triage_action():
    answered = Counter()
    for rule in rules("triage.yml"):
        (intent_step, action_step) = rule["steps"]
        assert action_step == {"action": "action_triage"}, rule["rule"]
        answered[intent_step["intent"]] += 1
    assert set(answered) == intents_of_domain() and max(answered.values()) == 1


def test_the_symptom_picture_has_a_slot_for_every_question_of_the_rulebook():
    questions = {question.id for question in load_rulebook().questions}
    slots = DOMAIN["slots"]
    assert questions | {FINDINGS_SLOT, ANSWERED_SLOT, MESSAGES_SLOT} <= set(slots)
    for name in questions | {FINDINGS_SLOT, ANSWERED_SLOT, MESSAGES_SLOT}:
        assert slots[name]["influence_conversation"] is False and slots[name]["mappings"] == [{"type": "custom"}]
