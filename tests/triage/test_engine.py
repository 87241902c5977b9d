"""The engine on its own: findings in, decision out, no language layer and no Rasa."""
from __future__ import annotations

import sys

import pytest

from bot.triage.engine import TriageEngine
from bot.nlp.findings import Finding


@pytest.fixture(scope="module")
def engine(rulebook):
    return TriageEngine(rulebook)


def present(*concepts, minutes=None):
    return [Finding(c, c, "present", minutes=minutes if c == "duration" else None) for c in concepts]


def test_engine_imports_nothing_from_rasa_or_spacy():
    import subprocess

    code = ("import bot.triage.engine, sys; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk', 'spacy', 'medspacy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_emergency_wins_over_everything_else(engine):
    decision = engine.decide(present("trigger_sitting", "relieved_by_moving", "diabetes", "bladder_bowel_loss"))
    assert decision.level == "emergency"
    assert decision.red_flags == ["emergency.bladder_bowel_loss"]
    assert decision.missing == ()


def test_negated_red_flag_is_not_an_emergency(engine):
    decision = engine.decide([Finding("bladder_bowel_loss", "bladder problems", "negated")])
    assert decision.level == "undetermined"
    assert "emergency_signs" in decision.missing


@pytest.mark.parametrize("status", ["hypothetical", "historical", "family"])
def test_red_flags_that_are_not_present_do_not_fire(engine, status):
    assert engine.decide([Finding("weakness", "weak", status)]).level == "undetermined"


def test_uncertain_red_flag_counts_as_present(engine):
    assert engine.decide([Finding("slurred_speech", "slurring", "uncertain")]).level == "emergency"


def test_doctor_level_is_given_while_questions_remain_open(engine):
    decision = engine.decide(present("numbness", "diabetes"))
    assert decision.level == "doctor"
    assert [rule.id for rule in decision.rules] == ["doctor.known_condition"]
    assert "side" in decision.missing and "emergency_signs" in decision.missing


def test_longer_than_a_few_minutes_means_doctor(engine):
    assert engine.decide(present("numbness", "duration", minutes=60 * 24 * 21)).level == "doctor"
    assert engine.decide(present("numbness", "duration", minutes=2)).level == "undetermined"


def test_self_care_needs_trigger_and_relief_and_brevity(engine):
    assert engine.decide(present("trigger_crossed_legs", "relieved_by_moving")).level == "self_care"
    assert engine.decide(present("trigger_crossed_legs")).level == "undetermined"
    assert engine.decide(present("relieved_by_moving")).level == "undetermined"
    long_episode = present("trigger_sitting", "relieved_by_moving") + present("duration", minutes=30)
    assert engine.decide(long_episode).level == "doctor"


def test_self_care_is_not_given_when_a_doctor_criterion_applies(engine):
    decision = engine.decide(present("trigger_sitting", "relieved_by_moving", "recurrent"))
    assert decision.level == "doctor"


def test_every_decision_carries_cited_reasons(engine):
    decision = engine.decide(present("weakness", "dizziness"))
    reasons = decision.reasons()
    assert {r["rule"] for r in reasons} == {"emergency.weakness", "emergency.dizziness"}
    for reason in reasons:
        assert reason["source"].endswith(".txt") and reason["quote"]


def test_missing_lists_only_what_is_not_known(engine):
    decision = engine.decide(present("left_leg", "foot", "numbness"))
    assert "side" not in decision.missing and "location" not in decision.missing
    assert decision.missing[0] == "emergency_signs"


def test_a_denial_answers_its_question(engine):
    decision = engine.decide([Finding("red_flags_denied", "none of those", "present")])
    assert "emergency_signs" not in decision.missing
