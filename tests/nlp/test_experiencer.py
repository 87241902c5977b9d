"""Whose sign it is: a sign told of someone else beside the writer's own numbness is not the
patient's; a relative's numbness makes that relative the patient, and their signs count."""
from __future__ import annotations

import pytest

from bot.nlp.findings import FAMILY, PRESENT


def red_flags(pipeline, text):
    return {(f.concept, f.status) for f in pipeline.findings(text) if f.category == "red_flag"}


@pytest.mark.parametrize("text, concept", [
    ("my brother has epilepsy and passes out sometimes. my feet tingle and burn at night", "loss_of_consciousness"),
    ("my neighbour collapsed last week and couldnt walk after, and now my leg goes numb on long walks",
     "inability_to_move_or_walk"),
    ("husband slurs his words when he's knackered, always has, but my foot keeps going numb every evening",
     "slurred_speech"),
])
def test_a_sign_of_someone_else_beside_the_writers_numbness_is_theirs(pipeline, text, concept):
    flags = red_flags(pipeline, text)
    assert (concept, FAMILY) in flags and not any(status == PRESENT for _, status in flags)


@pytest.mark.parametrize("text, concept", [
    ("dad's smile is crooked and he's dribbling out one side, says his leg went numb", "facial_droop"),
    ("my husbands legs are numb and he can't lift either of them off the mattress", "weakness"),
    ("My mum is 79 and lives alone, I pop in every day after work. Her legs have been numb for a while. "
     "Today she didn't recognise her own kitchen.", "confusion"),
    ("my daughter says I sound drunk and my leg has gone numb", "slurred_speech"),
    ("my leg is numb and my husband says my face looks lopsided", "facial_droop"),
    ("my friend hurt her back skiing and got numb legs from it, and my foot is numb too", "back_injury"),
])
def test_the_patients_own_signs_count_whoever_writes(pipeline, text, concept):
    assert (concept, PRESENT) in red_flags(pipeline, text)
