"""Long messages: details from the beginning, red flags from all of it."""
from __future__ import annotations

import pytest

from bot.nlp.pipeline import DETAIL_CHARS, pieces

FILLER = "my leg has been numb and tingly for a while. "


def red_flags(findings):
    return sorted({f.concept for f in findings if f.category == "red_flag" and f.is_present})


def test_every_emergency_rule_rests_on_red_flag_concepts(rulebook, pipeline):
    """Past DETAIL_CHARS only red-flag phrases are read: an emergency rule on any other
    concept would go unseen there."""
    for rule in rulebook.rules:
        if rule.level != "emergency":
            continue
        concepts = set(rule.condition.any_of).union(*rule.condition.all_of)
        for concept in concepts - {"red_flag_affirmed"}:  # an answer to our question, not a phrase
            assert pipeline.categories.get(concept) == "red_flag", (rule.id, concept)


@pytest.mark.parametrize(
    "sign, concept",
    [("I can't control my bladder", "bladder_bowel_loss"), ("and now my face is drooping", "facial_droop"),
     ("suddenly I can't walk at all", "inability_to_move_or_walk")],
)
@pytest.mark.parametrize("filler_chars", [DETAIL_CHARS * 2, 100_000])
def test_a_red_flag_after_a_long_text_is_found(pipeline, sign, concept, filler_chars):
    text = FILLER * (filler_chars // len(FILLER)) + sign
    assert concept in red_flags(pipeline.findings(text))


def test_a_red_flag_in_one_unbroken_100kb_run_of_words_is_found(pipeline):
    assert red_flags(pipeline.findings("numb " * 20_000 + "I can't control my bladder")) == ["bladder_bowel_loss"]


@pytest.mark.parametrize("text", ["I have NO bladder problems", "my father had a stroke", "what if I lose control of my bladder?"])
def test_a_denied_red_flag_after_a_long_text_stays_denied(pipeline, text):
    assert red_flags(pipeline.findings(FILLER * 100 + text)) == red_flags(pipeline.findings(text))


def test_details_come_from_the_beginning(pipeline):
    text = "my left foot is numb. " + FILLER * 200 + "my right knee is numb too."
    concepts = {f.concept for f in pipeline.findings(text)}
    assert "left_leg" in concepts and "right_leg" not in concepts


def test_pieces_cut_between_sentences_and_keep_every_character():
    text = ("one sentence here. " * 400).strip()
    parts = pieces(text, 1000)
    assert all(len(part) <= 1000 for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
