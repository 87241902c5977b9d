"""A spelling corrector guarded by a medical word list, run on each message before the patterns.

A word of five letters or more that is in no dictionary (SymSpell's English one, the medical list
of resources/spelling.yml) is corrected to the English or medical word one edit away that is written
most often, a medical word unless the other is written ten times as often ("myslf" -> "myself",
"brething" -> "breathing", "speach" -> "speech", not "peach", but "droping" -> "dropping"); a
word of eight letters or more with none that near, to the one medical word two edits away
(SymSpell's Damerau-Levenshtein lookup over the medical list). A tie, or nothing near: the word
stays as written. A short medical word with a key held too long ("numbe", "numbb") is that word,
not "number"; a plural or possessive without its apostrophe ("wifes") stays. Medical words are
never changed, nor names, words in capitals, words with an apostrophe, the words the patterns
themselves use ("didnt", "carnt") or the slang the file lists; so "I have NO bladder problems"
stays exactly what the person wrote. The patterns then need no typo alternations of their own.

Correction maps each word to one word, so a finding's quote is taken from the original text
(``Corrected.original``): the staff see the person's words and the summary links them to the message.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

from ..datafiles import check_keys, read_yaml

SPELLING_FILE = Path(__file__).resolve().parent / "resources" / "spelling.yml"
MIN_LETTERS = 5
MEDICAL_PREFERENCE = 10
MAX_LETTERS = 24  # longer "words" (a pasted hash, a key held down) are left alone: looking them up costs
LONG_WORD = 8  # from this length on, a medical word two edits away is a correction too
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_PATTERN_WORD = re.compile(r"[a-z]{%d,}" % MIN_LETTERS)
_SENTENCE_ENDS = ".!?\n:;\"("  # after one of these (or at the start), a capital starts a sentence


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set:
    """Every string one edit from ``word``: a letter dropped, swapped with the next, changed or added.
    (SymSpell over the whole English dictionary would find these too, but took 3 s and 142 MB to
    build here; a few hundred set lookups for the rare unknown word cost about 0.1 ms.)"""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS})


def _starts_sentence(text: str, position: int) -> bool:
    """Whether the word at ``position`` comes first in a sentence (only spaces back to a sentence end)."""
    index = position - 1
    while index >= 0 and text[index].isspace():
        index -= 1
    return index < 0 or text[index] in _SENTENCE_ENDS


class SpellingError(ValueError):
    """spelling.yml is malformed; the message names the place."""


@dataclass(frozen=True)
class SpellingWords:
    medical: FrozenSet[str]
    keep: FrozenSet[str]


def _words(listed: object, where: str) -> FrozenSet[str]:
    if not isinstance(listed, list) or not all(isinstance(w, str) and w.isalpha() and w.islower() for w in listed):
        raise SpellingError(f"{where} must be a list of lower-case words")
    return frozenset(listed)


def load_spelling_words(path: Path = SPELLING_FILE) -> SpellingWords:
    data = check_keys(read_yaml(path, error=SpellingError), {"version", "medical", "keep"}, str(path),
                      {"medical", "keep"}, error=SpellingError)
    groups = data["medical"]
    if not isinstance(groups, dict) or not groups:
        raise SpellingError(f"{path}: medical must be a mapping of groups to lists of words")
    medical = frozenset().union(*(_words(words, f"{path}: medical group {group!r}") for group, words in groups.items()))
    return SpellingWords(medical, _words(data["keep"], f"{path}: keep"))


def words_of_patterns(patterns: Iterable[str]) -> FrozenSet[str]:
    """The words of five letters or more written in regular expressions: the corrector leaves them
    alone, since a pattern that spells a word its own way wants it so."""
    return frozenset(word for pattern in patterns for word in _PATTERN_WORD.findall(pattern.lower()))


@dataclass(frozen=True)
class Corrected:
    """The corrected text and where its corrections are, to find the original words again."""

    text: str
    original_text: str
    # (start in text, end in text, start in original, end in original) for each corrected word
    edits: Tuple[Tuple[int, int, int, int], ...] = field(default=())

    def _original_offset(self, position: int, end: bool) -> int:
        starts = [edit[0] for edit in self.edits]
        # the last corrected word that starts before the position (at it, too, for a span's start)
        index = (bisect_left(starts, position) if end else bisect_right(starts, position)) - 1
        if index < 0:
            return position
        start, stop, original_start, original_stop = self.edits[index]
        if position < stop or (end and position == stop):
            return original_stop if end else original_start  # inside a corrected word: all of it
        return position - stop + original_stop

    def original(self, start: int, end: int) -> str:
        """The person's own words for the span [start, end) of the corrected text."""
        if not self.edits:
            return self.original_text[start:end]
        return self.original_text[self._original_offset(start, False) : self._original_offset(end, True)]

    @property
    def corrections(self) -> List[Tuple[str, str]]:
        return [(self.original_text[os:oe], self.text[s:e]) for s, e, os, oe in self.edits]


class SpellingCorrector:
    def __init__(self, words: Optional[SpellingWords] = None, keep: Iterable[str] = (),
                 english: Optional[Dict[str, int]] = None, lay: Iterable[str] = ()):
        """``keep``: more words never to change (the patterns' own, see words_of_patterns). ``lay``:
        patients' words (the sign bank's), never changed either, except a misspelt medical word
        among them ("bladdr" is still "bladder"; "spinny" stays, not "skinny")."""
        from symspellpy import SymSpell

        from .wordlists import english_words, forms_of

        words = words or load_spelling_words()
        self._english = english if english is not None else english_words()
        self._medical = frozenset(form for word in words.medical for form in forms_of(word) | {word})
        self._keep = frozenset(keep) | words.keep
        # the medical words too short to be corrected to by distance, longest first
        self._short_medical = sorted((w for w in words.medical if 3 <= len(w) < MIN_LETTERS), key=len, reverse=True)
        self._far_medical = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word in self._medical:
            if len(word) >= MIN_LETTERS:
                self._far_medical.create_dictionary_entry(word, 1)
        self._keep |= {word for word in lay if self.suggestion(word) not in self._medical}

    def _known(self, word: str) -> bool:
        return word in self._english or word in self._medical or word in self._keep

    def _most_written(self, candidates: Iterable[str]) -> Optional[str]:
        """The candidate written most often, a medical word first unless an everyday word is written
        MEDICAL_PREFERENCE times as often: people here write about their symptoms ("duzzy" is dizzy,
        not fuzzy; "droping" is still dropping, written 23 times as often as drooping)."""
        def weight(word: str) -> int:
            return self._english.get(word, 0) * (MEDICAL_PREFERENCE if word in self._medical else 1)

        ranked = sorted(candidates, key=lambda w: (-weight(w), w))
        if not ranked or (len(ranked) > 1 and weight(ranked[0]) == weight(ranked[1])):
            return None  # nothing, or a tie: leave the word as written
        return ranked[0]

    def suggestion(self, word: str) -> Optional[str]:
        """The word ``word`` is a misspelling of, or None to leave it as written."""
        lower = word.lower()
        if not MIN_LETTERS <= len(lower) <= MAX_LETTERS or not lower.isalpha() or self._known(lower) \
                or (word.isupper() and len(word) > 1):
            return None
        if lower.endswith("s") and self._known(lower[:-1]):
            return None  # a plural or a possessive without its apostrophe: "wifes", "elses"
        stem = next((w for w in self._short_medical if lower.startswith(w) and len(lower) - len(w) <= 2), None)
        if stem is not None:
            return stem  # a medical word with a key held too long: "numbe", "numbb" (not "number")
        near = [w for w in _one_edit(lower) if len(w) >= MIN_LETTERS and (w in self._english or w in self._medical)]
        if near:
            return self._most_written(near)
        if len(lower) < LONG_WORD:
            return None
        from symspellpy import Verbosity

        far = self._far_medical.lookup(lower, Verbosity.CLOSEST, max_edit_distance=2)
        return self._most_written(s.term for s in far)

    def correct(self, text: str) -> Corrected:
        pieces, edits, position, shift = [], [], 0, 0
        for match in _WORD.finditer(text):
            if match.group()[0].isupper() and not _starts_sentence(text, match.start()):
                continue  # a capital inside a sentence: a name
            fixed = self.suggestion(match.group())
            if fixed is None:
                continue
            if match.group()[0].isupper():
                fixed = fixed[0].upper() + fixed[1:]
            pieces.append(text[position : match.start()])
            start = match.start() + shift
            pieces.append(fixed)
            edits.append((start, start + len(fixed), match.start(), match.end()))
            shift += len(fixed) - len(match.group())
            position = match.end()
        if not edits:
            return Corrected(text, text)
        pieces.append(text[position:])
        return Corrected("".join(pieces), text, tuple(edits))
