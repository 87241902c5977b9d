"""Property tests of the language layer and engine: no text breaks them, and no red flag gets lost."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# A red-flag sentence, and the rule that must fire when it stands among any other sentences.
FLAG_SENTENCES = [
    ("I can't control my bladder.", "emergency.bladder_bowel_loss"),
    ("My husband's speech is slurred.", "emergency.speech_problem"),
    ("I cant walk.", "emergency.inability_to_move_or_walk"),
    ("My face is drooping.", "emergency.stroke_signs"),
    ("I passed out this morning.", "emergency.loss_of_consciousness"),
    ("My legs feel weak.", "emergency.weakness"),
    ("I fell and hurt my back.", "emergency.back_injury"),
    ("It came on suddenly.", "emergency.sudden_numbness"),
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Filler sentences: any words made of letters and digits, so any word at all (including
# "no", "if", "not", "years ago"), but no sentence punctuation that could join them to the flag.
filler_sentence = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=9), max_size=12).map(
    lambda words: (" ".join(words).capitalize() + ".") if words else ""
)


@FUZZ
@given(text=st.text(max_size=400))
def test_any_text_gives_a_decision_without_error(service, text):
    decision = service.assess(text)
    assert decision.level in ("emergency", "doctor", "self_care", "undetermined")


@FUZZ
@given(before=st.lists(filler_sentence, max_size=4), after=st.lists(filler_sentence, max_size=4), flag=st.sampled_from(FLAG_SENTENCES))
def test_a_red_flag_among_any_other_sentences_is_never_lost(service, before, after, flag):
    sentence, rule = flag
    text = " ".join([*before, sentence, *after])
    decision = service.assess(text)
    assert rule in decision.red_flags, text


@pytest.mark.parametrize("sentence, rule", FLAG_SENTENCES)
def test_each_flag_sentence_alone_fires_its_rule(service, sentence, rule):
    assert rule in service.assess(sentence).red_flags


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(filler_sentence.filter(bool), min_size=1, max_size=4), after=st.lists(filler_sentence, max_size=3),
       flag=st.sampled_from(FLAG_SENTENCES))
def test_a_red_flag_past_the_detail_limit_of_a_long_message_is_never_lost(service, before, after, flag):
    from bot.nlp.pipeline import DETAIL_CHARS

    sentence, rule = flag
    filler = " ".join(before)
    long_start = " ".join([filler] * (DETAIL_CHARS // len(filler) + 2))
    decision = service.assess(" ".join([long_start, sentence, *after]))
    assert rule in decision.red_flags
