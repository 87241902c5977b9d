"""Patient language: negation words that are part of a symptom, denials, hypotheticals, history."""
from __future__ import annotations

import pytest


def statuses(pipeline, text):
    return {(f.concept, f.status) for f in pipeline.findings(text)}


@pytest.mark.parametrize(
    "text, concept",
    [
        ("I can't control my bladder", "bladder_bowel_loss"),
        ("i cant controll my bladdr", "bladder_bowel_loss"),
        ("haven't been able to pee since yesterday", "bladder_bowel_loss"),
        ("I wet myself", "bladder_bowel_loss"),
        ("can't walk", "inability_to_move_or_walk"),
        ("I CANNOT WALK", "inability_to_move_or_walk"),
        ("can't feel my leg", "numbness"),
        ("my husband's speech is slurred", "slurred_speech"),
        ("my mom cant move her leg", "inability_to_move_or_walk"),
        ("I'm not able to walk", "inability_to_move_or_walk"),
        ("it doesn't go away when I move", "persistent"),
        ("my legs gave way", "weakness"),
        ("I think I might be slurring", "slurred_speech"),
    ],
)
def test_symptoms_holding_a_negation_word_are_present(pipeline, text, concept):
    found = statuses(pipeline, text)
    assert any(c == concept and s in ("present", "uncertain") for c, s in found), found


@pytest.mark.parametrize(
    "text, concept",
    [
        ("I have NO bladder problems", "bladder_bowel_loss"),
        ("no weakness, dizziness or trouble walking", "dizziness"),
        ("no weakness, dizziness or trouble walking", "difficulty_walking"),
        ("denies weakness", "weakness"),
        ("I don't have trouble walking", "difficulty_walking"),
        ("haven't hit my head or anything", "head_injury"),
        ("nothing sudden, it came on slowly", "sudden_onset"),
        ("it didnt come on suddenly", "sudden_onset"),
        ("im not dizzy at all", "dizziness"),
    ],
)
def test_denied_findings_are_negated(pipeline, text, concept):
    found = statuses(pipeline, text)
    assert (concept, "negated") in found, found


@pytest.mark.parametrize(
    "text, concept, status",
    [
        ("what if I lose control of my bladder?", "bladder_bowel_loss", "hypothetical"),
        ("If I lose bladder control, should I go to the ER?", "bladder_bowel_loss", "hypothetical"),
        ("should I worry if my leg gets weak?", "weakness", "hypothetical"),
        ("my father had a stroke", "stroke_suspected", "family"),
        ("I hurt my back 10 years ago", "back_injury", "historical"),
        ("I passed out once as a teenager", "loss_of_consciousness", "historical"),
    ],
)
def test_hypothetical_family_and_history_are_not_present(pipeline, text, concept, status):
    found = statuses(pipeline, text)
    assert (concept, status) in found, found


@pytest.mark.parametrize(
    "text, concept",
    [
        # The second clause is a new statement: the denial before it must not reach it.
        ("no weakness, my bladder leaks", "bladder_bowel_loss"),
        ("no pain but I can't walk", "inability_to_move_or_walk"),
        # A report, not a question: the "if" describes when it happens.
        ("If I get up too fast I get dizzy.", "dizziness"),
        # Present tense after an old injury: the weakness is now.
        ("I broke my back years ago, my legs are weak", "weakness"),
        ("my dad has slurred speech and his face is drooping", "facial_droop"),
    ],
)
def test_red_flags_after_a_modifier_stay_present(pipeline, text, concept):
    found = statuses(pipeline, text)
    assert (concept, "present") in found, found


def test_findings_carry_side_location_duration_trigger_and_condition(pipeline):
    findings = pipeline.findings("my left foot has been numb for three weeks, worse when I sit, and I'm diabetic")
    concepts = {f.concept for f in findings}
    assert {"left_leg", "foot", "numbness", "duration", "trigger_sitting", "diabetes"} <= concepts
    duration = next(f for f in findings if f.concept == "duration")
    assert duration.minutes == 3 * 7 * 24 * 60


def test_a_duration_of_the_trigger_is_not_the_numbness(pipeline):
    findings = pipeline.findings("after sitting for two hours my foot tingled for a minute")
    assert [f.minutes for f in findings if f.concept == "duration"] == [1]


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b", "\x00\x01", "🦵🦵🦵", "<script>alert(1)</script>"])
def test_empty_and_odd_text_gives_no_findings_and_no_error(pipeline, text):
    assert pipeline.findings(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "my foot was wedged under the desk all afternoon and went numb, I walked about and it came right",
        "perched on a bar stool for an hour, thigh went tingly, hopped down and it faded away",
        "my toddler fell asleep with her head on my leg, it went dead, I stretched it and it went straight away",
        "laced my walking boots far too tight and my foot tingled, loosened them and it was fine",
        "knelt on the floor to fix the cupboard, stood up and my shin was fizzing. A few seconds later, gone",
    ],
)
def test_brief_pressure_numbness_that_goes_with_moving_is_self_care(service, text):
    decision = service.assess(text)
    assert decision.level == "self_care", [(f.concept, f.status) for f in decision.findings]


@pytest.mark.parametrize(
    "text",
    [
        "the numbness started in my toes and now it's up to my ankles",
        "my feet go cold and a bit bluish at night",
    ],
)
def test_spreading_and_colour_change_are_for_a_doctor(service, text):
    assert service.assess(text).level == "doctor"
