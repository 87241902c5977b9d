"""The rulebook: every quote is verbatim in its source, and malformed rules are refused by name."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.triage.levels import EMERGENCY
from bot.triage.rulebook import DEFAULT_RULES_DIR, RulebookError, load_rulebook


def _quotes(rulebook):
    """Every cited source in the project: rules, causes and advice, FAQ answers."""
    from bot.dialogue.replies import faq_answers
    from bot.triage.knowledge import load_knowledge

    for rule in rulebook.rules:
        for source in rule.sources:
            yield rule.id, source
    yield from load_knowledge().all_sources()
    for intent, (_, sources) in faq_answers().items():
        for source in sources:
            yield intent, source


def test_seed_documents_are_where_the_rulebook_says(rulebook):
    assert rulebook.documents_dir.is_dir(), rulebook.documents_dir
    for document in rulebook.documents:
        assert (rulebook.documents_dir / document).is_file(), document


def test_every_quote_occurs_verbatim_in_its_document(rulebook):
    texts = {name: (rulebook.documents_dir / name).read_text(encoding="utf-8") for name in rulebook.documents}
    checked = 0
    for rule_id, source in _quotes(rulebook):
        assert source.quote in texts[source.document], f"{rule_id}: quote not found in {source.document}: {source.quote!r}"
        checked += 1
    assert checked >= len(rulebook.rules) + 20


@pytest.mark.parametrize(
    "concepts",
    [
        # The emergency criteria the issue names, each of which one of the documents lists.
        ["dizziness"], ["difficulty_breathing"], ["back_injury"], ["sudden_onset"], ["facial_droop"],
        ["vision_problem"], ["confusion"], ["loss_of_consciousness"], ["bladder_bowel_loss"], ["paralysis"],
        ["inability_to_move_or_walk"], ["difficulty_walking"], ["slurred_speech"], ["weakness"],
        ["head_injury"], ["neck_injury"], ["stroke_suspected"],
    ],
)
def test_each_emergency_criterion_has_an_emergency_rule(rulebook, concepts):
    rules = [r for r in rulebook.rules_for(EMERGENCY) if set(concepts) <= r.condition.any_of]
    assert rules, f"no emergency rule fires on {concepts}"


def test_rule_concepts_are_all_known_to_the_language_layer(rulebook, pipeline):
    from bot.dialogue.conversation import ANSWER_CONCEPTS

    unknown = rulebook.concepts() - pipeline.concepts - ANSWER_CONCEPTS
    assert not unknown, f"the rulebook uses concepts the language layer never produces: {sorted(unknown)}"


def test_levels_are_ordered_most_urgent_first(rulebook):
    levels = [rule.level for rule in rulebook.rules]
    assert levels == sorted(levels, key=["emergency", "doctor", "self_care"].index)


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


MALFORMED = [
    # (file, text replaced, replacement, the error that must name the place)
    ("emergency.yml", "  - id: emergency.dizziness\n", "  - id: emergency.dizziness\n    severity: high\n",
     r"emergency\.dizziness.*unknown key\(s\) \['severity'\]"),
    ("doctor.yml", "when: {any: [rash, cramps]}", "when: {anyof: [rash, cramps]}", r"doctor\.rash_or_cramps.*unknown key"),
    ("doctor.yml", "when: {any: [concern]}", "when: {}", r"doctor\.concern.*at least one condition is required"),
    ("emergency.yml", "      - document: 002_e189db9327c4d401.txt\n        quote: Dizziness",
     "      - document: 009_nowhere.txt\n        quote: Dizziness", r"emergency\.dizziness.*unknown document"),
    ("doctor.yml", "id: doctor.rash_or_cramps", "id: emergency.rash_or_cramps", r"must be text starting with 'doctor\.'"),
    ("doctor.yml", "id: doctor.concern", "id: doctor.pain", r"defined twice"),
    ("self_care.yml", "level: self_care\n", "level: self_care\nrules: [\n", r"self_care\.yml: not valid YAML"),
]


@pytest.mark.parametrize("file, old, new, error", MALFORMED)
def test_malformed_rulebook_is_refused_with_the_place_named(rules_copy, file, old, new, error):
    _edit(rules_copy / file, old, new)
    with pytest.raises(RulebookError, match=error):
        load_rulebook(rules_copy)


def test_rule_without_sources_is_refused(rules_copy):
    path = rules_copy / "doctor.yml"
    text = path.read_text()
    start = text.index("  - id: doctor.concern")
    path.write_text(text[:start] + "  - id: doctor.concern\n    when: {any: [concern]}\n    explanation: x\n")
    with pytest.raises(RulebookError, match=r"doctor\.concern.*missing key\(s\) \['sources'\]"):
        load_rulebook(rules_copy)


def test_readme_lists_every_rule(rulebook):
    from bot.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [rule.id for rule in rulebook.rules if f"`{rule.id}`" not in readme]
    assert not missing, f"README's rule table lacks {missing}"
