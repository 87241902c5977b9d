"""codes.yml: complete for every concept, status, level and detector we have, SNOMED CT ids well formed,
and a loader that refuses what it does not understand."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from bot.fhir.codes import DEFAULT_CODES_FILE, FINDING, SNOMED, CodesError, load_terminology, snomed_ids
from bot.nlp.resources import CONCEPTS_FILE
from bot.nlp.findings import ANSWER, EMBEDDING, PATTERNS, STATUSES
from bot.triage.levels import LEVELS

# Verhoeff's tables: SNOMED CT identifiers end in a Verhoeff check digit.
_MULTIPLY = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_PERMUTE = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def verhoeff_ok(number: str) -> bool:
    check = 0
    for position, digit in enumerate(reversed(number)):
        check = _MULTIPLY[check][_PERMUTE[position % 8][int(digit)]]
    return check == 0


def test_verhoeff_itself():
    assert verhoeff_ok("2363") and not verhoeff_ok("2364")  # the textbook example
    assert verhoeff_ok("44077006") and not verhoeff_ok("44077007")


@pytest.fixture(scope="module")
def terms():
    return load_terminology()


def language_concepts():
    """Every concept the language layer can find (its own file, read plainly)."""
    with open(CONCEPTS_FILE, encoding="utf-8") as handle:
        return set(yaml.safe_load(handle)["concepts"])


def test_every_concept_status_level_and_detector_has_a_code(terms, rulebook):
    assert language_concepts() <= set(terms.concepts), "a concept of concepts.yml without a code"
    assert rulebook.concepts() <= set(terms.concepts), "a concept of the rulebook without a code"
    assert set(STATUSES) == set(terms.statuses)
    assert set(LEVELS) == set(terms.levels)
    assert {PATTERNS, EMBEDDING, ANSWER} == set(terms.detectors)


def test_snomed_ids_are_well_formed_concept_ids(terms):
    codes = snomed_ids(terms)
    assert len(codes) >= 30
    for code in codes:
        assert verhoeff_ok(code), f"{code}: wrong check digit (a typing error)"
        assert code[-3:-1] in ("00", "10"), f"{code}: not a concept id (partition {code[-3:-1]})"


def test_a_finding_is_coded_in_snomed_where_it_can_be_and_always_in_our_system(terms):
    numbness = terms.finding_code("numbness")
    assert [(c.system, c.code) for c in numbness.coding] == [(SNOMED, "44077006"), (terms.system(FINDING), "numbness")]
    ours_only = terms.finding_code("bladder_bowel_loss")
    assert [(c.system, c.code) for c in ours_only.coding] == [(terms.system(FINDING), "bladder_bowel_loss")]
    assert terms.body_site("calf").coding[0].code == "53840002"
    # A concept the language layer gains before codes.yml does still exports, in our codes.
    new = terms.finding_code("brand_new_sign")
    assert new.coding[0].code == "brand_new_sign" and new.text == "brand new sign"


def _write(tmp_path, concepts: str):
    text = DEFAULT_CODES_FILE.read_text(encoding="utf-8")
    head = text[: text.index("\nconcepts:")]
    path = tmp_path / "codes.yml"
    path.write_text(head + "\nconcepts:\n" + textwrap.indent(textwrap.dedent(concepts), "  "), encoding="utf-8")
    return path


@pytest.mark.parametrize("concepts, complaint", [
    ('numbness: {display: Numbness, snomd: "44077006"}\n', "unknown key(s) ['snomd']"),
    ('numbness: {display: Numbness, snomed: "44077006"}\n', "snomed and snomed_display go together"),
    ('numbness: {display: Numbness, snomed: "numb", snomed_display: Numbness}\n', "is not a SNOMED CT identifier"),
    ('numbness: {display: Numbness, snomed: 44077006, snomed_display: Numbness}\n', "must be non-empty text"),
    ("numbness: {snomed_display: Numbness}\n", "missing key(s) ['display']"),
])
def test_the_loader_rejects_what_it_does_not_understand(tmp_path, concepts, complaint):
    with pytest.raises(CodesError) as raised:
        load_terminology(_write(tmp_path, concepts))
    assert complaint in str(raised.value) and "numbness" in str(raised.value)


def test_the_loader_rejects_an_unknown_section(tmp_path):
    path = tmp_path / "codes.yml"
    path.write_text(DEFAULT_CODES_FILE.read_text(encoding="utf-8") + "\nsynonyms: {}\n", encoding="utf-8")
    with pytest.raises(CodesError, match=r"unknown key\(s\) \['synonyms'\]"):
        load_terminology(path)
