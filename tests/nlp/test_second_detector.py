"""The second red-flag detector: clause embeddings against the sign bank, the status still decided
by ConText on the clause, and the finding marked with the detector(s) that found it."""
from __future__ import annotations

import re

import pytest

from bot.nlp.clauses import clause_spans, comparable_text
from bot.nlp.resources import ResourceError, SIGN_DESCRIPTIONS_FILE, load_concept_rules, load_sign_bank
from bot.nlp.findings import EMBEDDING, HYPOTHETICAL, NEGATED, PATTERNS, PRESENT
from bot.triage.rulebook import load_rulebook

AIR = "my lungs won't fill up"  # trouble breathing, in words no pattern knows


def red_flags(pipeline, text):
    return {(f.concept, f.status, f.detected_by, f.suspected) for f in pipeline.findings(text) if f.category == "red_flag"}


def test_a_sign_only_the_embedding_finds_is_present_but_suspected(pipeline):
    assert red_flags(pipeline, f"my leg is numb and {AIR}") == {("difficulty_breathing", PRESENT, (EMBEDDING,), True)}


def test_the_embedding_never_decides_the_status_the_clause_does(pipeline):
    # Embeddings score a denial like the sign itself: ConText reads the "don't" on the clause.
    for denial in ("my leg is numb and I have no problem getting enough air in",
                   "my leg is numb, I am not short of air"):
        assert red_flags(pipeline, denial) == {("difficulty_breathing", NEGATED, (EMBEDDING,), True)}, denial
    assert red_flags(pipeline, f"what if one day {AIR}?") == {("difficulty_breathing", HYPOTHETICAL, (EMBEDDING,), True)}


def test_a_sign_both_detectors_find_says_so_and_is_not_suspected(pipeline):
    (found,) = [f for f in pipeline.findings("I can't control my bladder") if f.category == "red_flag"]
    assert (found.concept, found.detected_by, found.suspected) == ("bladder_bowel_loss", (PATTERNS, EMBEDDING), False)
    assert 0.62 <= found.score <= 1


def test_numbness_words_alone_are_no_sign(pipeline):
    for text in ("my left leg is numb", "both feet are tingling", "pins and needles in my thigh", "my foot fell asleep"):
        assert red_flags(pipeline, text) == set(), text


def test_without_the_second_detector_only_patterns_find_signs():
    from bot.nlp.pipeline import ClinicalPipeline

    only_patterns = ClinicalPipeline(signs=None)
    assert red_flags(only_patterns, f"my leg is numb and {AIR}") == set()
    assert red_flags(only_patterns, "I can't control my bladder") == {("bladder_bowel_loss", PRESENT, (PATTERNS,), False)}


def test_a_clause_about_the_writer_ends_every_rule_of_the_categories_it_ends(pipeline):
    # spaCy handed the terminations over as one-shot iterators: only the first rule of each
    # category was ended, so "I read" went on to make the writer's own sign hypothetical.
    flags = red_flags(pipeline, "I read that losing bladder control is serious and I've wet myself today")
    assert ("bladder_bowel_loss", PRESENT, (PATTERNS, EMBEDDING), False) in flags


def test_clauses_are_cut_at_commas_and_joining_words_and_short_pieces_join_their_neighbour(pipeline):
    doc = pipeline._nlp("My back hurts, but I can walk fine and my bladder and bowels are normal. No fever")
    assert [c.text for c in clause_spans(doc)] == [
        "My back hurts", "I can walk fine", "my bladder and bowels are normal.", "No fever"]
    assert comparable_text("my left leg is numb and tingly") == "is and"  # numbness and leg words go


def test_every_sign_of_the_bank_is_an_emergency_concept_and_cites_its_document_verbatim():
    bank = load_sign_bank(concepts=load_concept_rules())
    rulebook = load_rulebook()
    emergency_concepts = {c for rule in rulebook.rules if rule.level == "emergency" for c in rule.condition.any_of}
    documents = rulebook.documents_dir
    for entry in bank.entries:
        if entry in bank.signs:
            assert entry.concept in emergency_concepts and entry.question.endswith("?"), entry.concept
        text = re.sub(r"\s+", " ", (documents / entry.document).read_text(encoding="utf-8"))
        assert entry.quote in text, (entry.concept, entry.quote)
    assert len(bank.signs) == 17 and len(bank.benign) >= 90


def test_the_bank_loader_rejects_unknown_keys_and_signs_that_are_no_red_flag(tmp_path):
    original = SIGN_DESCRIPTIONS_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "bank.yml"
    bad.write_text(original.replace("thresholds: {", "threshold_typo: 1\nthresholds: {", 1), encoding="utf-8")
    with pytest.raises(ResourceError, match="threshold_typo"):
        load_sign_bank(bad)
    bad.write_text(original.replace("  bladder_bowel_loss:\n", "  numbness:\n", 1), encoding="utf-8")
    with pytest.raises(ResourceError, match="not a red-flag concept"):
        load_sign_bank(bad, concepts=load_concept_rules())
    bad.write_text(original.replace("    descriptions:\n", "    descriptons:\n", 1), encoding="utf-8")
    with pytest.raises(ResourceError, match="descriptons"):
        load_sign_bank(bad)
