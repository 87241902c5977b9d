"""Spelling correction guarded by the medical word list, lemma forms in patterns, and the two
word lists' hash checks."""
from __future__ import annotations

import gzip
import json

import pytest

from bot.nlp.spelling import SpellingCorrector, SpellingError, load_spelling_words
from bot.nlp.wordlists import ENGLISH_DICTIONARY, LEMMA_TABLE, PackageFile, WordListError, forms_of


@pytest.fixture(scope="module")
def corrector(pipeline):
    return pipeline.speller


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("bladdr", "bladder"),
        ("Paralised", "Paralysed"),  # a capital at the start of a sentence stays a capital
        ("brething", "breathing"),
        ("incontinance", "incontinence"),  # two edits: a long medical word
        ("numbnes", "numbness"),
        ("speach", "speech"),  # also one edit from "peach", written far less often
        ("myslf", "myself"),  # everyday English too
        ("cannt", "cannot"),  # not the Scots "canna"
        ("seconnd", "second"),
        ("sturted", "started"),  # not "slurred", two edits away
    ],
)
def test_misspellings_are_corrected(corrector, typed, meant):
    corrected = corrector.correct(f"{typed} here")
    assert corrected.text == f"{meant} here"
    assert corrected.corrections == [(typed, meant)]


@pytest.mark.parametrize(
    "text, word",
    [
        ("I have NO bladder problems", "NO"),
        ("my friend Brenda said so", "Brenda"),  # a capital inside a sentence: a name
        ("I didnt and I havent", "didnt"),  # contractions without their apostrophe, as the patterns read them
        ("I didnt and I havent", "havent"),
        ("PARALISED", "PARALISED"),  # capitals: an acronym as often as a shout
        ("sciatica and paraesthesia", "sciatica"),  # medical words, listed or in no dictionary at all
        ("sciatica and paraesthesia", "paraesthesia"),
        ("numm legg", "numm"),  # fewer than five letters: too short to tell
        ("numm legg", "legg"),
    ],
)
def test_what_is_left_as_written(corrector, text, word):
    assert word not in dict(corrector.correct(text).corrections)
    assert word in corrector.correct(text).text


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("sroke", "stroke"),  # also smoke, spoke, broke: a medical word first ...
        ("duzzy", "dizzy"),  # ... (fuzzy is written 3.7 times as often)
        ("droping", "dropping"),  # ... unless the other is written ten times as often (drooping: 23)
    ],
)
def test_a_medical_word_is_preferred_within_reason(corrector, typed, meant):
    assert corrector.correct(typed).text == meant


def test_a_tie_is_left_as_written():
    words = load_spelling_words()
    corrector = SpellingCorrector(words, english={"bitter": 5, "butter": 5, "batter": 1})
    assert corrector.correct("the bntter").text == "the bntter"  # bitter and butter: written as often
    assert corrector.correct("the buttter").text == "the butter"  # one edit from butter only


def test_quotes_keep_the_persons_own_words(pipeline):
    text = "Since this mornign I am paralised from the waist and I peed myslf"
    findings = {f.concept: f.text for f in pipeline.findings(text)}
    assert findings["paralysis"] == "paralised"
    assert findings["bladder_bowel_loss"] == "peed myslf"
    for words in findings.values():
        assert words in text


def test_original_offsets_around_corrections(corrector):
    corrected = corrector.correct("so bladdr is gone, brething hard")
    assert corrected.text == "so bladder is gone, breathing hard"
    at = corrected.text.index("bladder")
    assert corrected.original(at, at + len("bladder is gone")) == "bladdr is gone"
    assert corrected.original(0, 2) == "so"
    assert corrected.original(at + 1, at + 3) == "bladdr"  # inside a corrected word: the whole word
    assert corrected.original(0, len(corrected.text)) == corrected.original_text


@pytest.mark.parametrize(
    "text, level",
    [
        ("my leg is numb and I am paralised from the waist", "emergency"),
        ("numb legs and I just peed myslf without feeling it", "emergency"),
        ("leg numb, incontinance since yesterday", "emergency"),
        ("numb foot and I have difficulty brething", "emergency"),
        ("numb leg but no incontinance and no brething trouble", "doctor"),
    ],
)
def test_triage_reads_through_typos(service, text, level):
    decision = service.assess(text)
    if level == "emergency":
        assert decision.is_emergency, decision.findings
    else:
        assert not decision.is_emergency, decision.findings


def test_without_correction_the_typos_are_missed(pipeline):
    from bot.nlp.pipeline import ClinicalPipeline

    plain = ClinicalPipeline(signs=None, spelling=False)
    assert plain.speller is None
    assert not any(f.category == "red_flag" for f in plain.findings("I am paralised and incontinance"))
    assert {f.concept for f in pipeline.findings("I am paralised and incontinance")} >= {"paralysis", "bladder_bowel_loss"}


def test_every_lemma_has_the_forms_the_table_gives_it():
    """The compact index answers as the table itself read the plain way does, for every lemma."""
    lemma_of = json.loads(gzip.decompress(LEMMA_TABLE.read()))
    expected = {}
    for form, lemma in lemma_of.items():
        form, lemma = form.lower(), str(lemma).lower()
        if form.isalpha() and lemma.isalpha():
            expected.setdefault(lemma, {lemma}).add(form)
    assert len(expected) > 10_000
    assert all(forms_of(lemma) == words for lemma, words in expected.items())
    assert forms_of("be") >= {"was", "were", "is", "been", "being"}


def test_lemma_forms_in_patterns(pipeline):
    assert {"wet", "wets", "wetting", "wetted"} <= forms_of("wet")
    assert {"lose", "lost", "losing", "loses"} <= forms_of("lose")
    assert forms_of("zzzq") == {"zzzq"}
    for text in ("he wets himself", "she keeps wetting herself", "I wet myself", "gasped for air", "gasps"):
        assert any(f.category == "red_flag" and f.is_present for f in pipeline.findings(f"numb leg, {text}")), text


def test_lemma_patterns_compile_to_every_form(tmp_path):
    from bot.nlp.resources import load_concept_rules

    path = tmp_path / "concepts.yml"
    path.write_text('concepts:\n  soaked:\n    category: red_flag\n    patterns: ["~soak through"]\n', encoding="utf-8")
    (rule,) = load_concept_rules(path)
    import re

    for form in ("soak", "soaks", "soaked", "soaking"):
        assert re.search(rule.pattern, f"it {form} through", re.IGNORECASE), form
    assert not re.search(rule.pattern, "it soakz through", re.IGNORECASE)


def test_spelling_file_rejects_unknown_keys_and_bad_words(tmp_path):
    path = tmp_path / "spelling.yml"
    path.write_text("medical: {signs: [bladder]}\nkeep: []\nextra: 1\n", encoding="utf-8")
    with pytest.raises(SpellingError, match="unknown key"):
        load_spelling_words(path)
    path.write_text("medical: {signs: [Bladder]}\nkeep: []\n", encoding="utf-8")
    with pytest.raises(SpellingError, match="lower-case"):
        load_spelling_words(path)
    path.write_text("medical: {}\nkeep: []\n", encoding="utf-8")
    with pytest.raises(SpellingError, match="mapping of groups"):
        load_spelling_words(path)


def test_word_lists_are_checked_at_load():
    assert len(ENGLISH_DICTIONARY.read()) > 1_000_000
    altered = PackageFile(ENGLISH_DICTIONARY.package, ENGLISH_DICTIONARY.version, ENGLISH_DICTIONARY.member, "0" * 64)
    with pytest.raises(WordListError, match="wrong sha256"):
        altered.read()
    other_version = PackageFile(ENGLISH_DICTIONARY.package, "0.0.1", ENGLISH_DICTIONARY.member, ENGLISH_DICTIONARY.sha256)
    with pytest.raises(WordListError, match="checked with 0.0.1"):
        other_version.read()
    with pytest.raises(WordListError, match="not installed"):
        PackageFile("no-such-package-here", "1.0", "x.txt", "0" * 64).read()
    missing = PackageFile(ENGLISH_DICTIONARY.package, ENGLISH_DICTIONARY.version, "symspellpy/none.txt", "0" * 64)
    with pytest.raises(WordListError, match="cannot read"):
        missing.read()


def test_a_pattern_ending_in_a_space_is_refused(tmp_path):
    """Matches end at a word's end, so "... in one " could never match "in one eye": once, such a
    vision pattern sat unnoticed in concepts.yml."""
    from bot.nlp.resources import ResourceError, load_concept_rules

    path = tmp_path / "concepts.yml"
    path.write_text('concepts:\n  sight:\n    category: red_flag\n    patterns: ["lost the sight in one "]\n', encoding="utf-8")
    with pytest.raises(ResourceError, match="ends with a space"):
        load_concept_rules(path)


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("numbe", "numb"),  # not "number": a short medical word with a key held too long
        ("numbb", "numb"),
        ("wifes", "wifes"),  # "wife's" without its apostrophe: not "wines"
        ("elses", "elses"),  # not "elves"
        ("spasming", "spasming"),  # a medical word: not "spamming"
        ("spinny", "spinny"),  # the sign bank's word for a dizzy head: not "skinny"
    ],
)
def test_harmful_corrections_seen_on_the_tuning_sets_are_not_made(corrector, typed, meant):
    assert corrector.correct(f"my {typed} leg").text == f"my {meant} leg"


def test_very_long_words_are_left_as_written(corrector):
    """A pasted hash or a key held down is no misspelling: looking it up would cost more than it is worth."""
    word = "paralised" + "x" * 30
    assert corrector.correct(f"so {word} then").text == f"so {word} then"
