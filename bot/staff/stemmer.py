"""The Snowball English stemmer ("Porter 2"), for the search box: "walking" and "walked" -> "walk".

Written from the algorithm's description (https://snowballstem.org/algorithms/english/stemmer.html)
rather than imported: the only packaged copy at hand is NLTK's, which adds some 60 MB and a second
of start-up to the staff app for one function. tests/staff/test_search.py checks it against NLTK's.
The regions R1 and R2 are kept as positions in the word.
"""
from __future__ import annotations

import functools
from typing import Optional, Tuple

VOWELS = frozenset("aeiouy")
DOUBLES = ("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt")
LI_ENDINGS = frozenset("cdeghkmnrt")
# Whole words the algorithm treats on their own, before any step (1) and after step 1a (2).
EXCEPTIONS_1 = {
    "skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie", "idly": "idl", "gently": "gentl",
    "ugly": "ugli", "early": "earli", "only": "onli", "singly": "singl", "sky": "sky", "news": "news", "howe": "howe",
    "atlas": "atlas", "cosmos": "cosmos", "bias": "bias", "andes": "andes",
}
EXCEPTIONS_2 = frozenset(("inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"))
R1_PREFIXES = ("gener", "commun", "arsen")

STEP_2 = (  # (suffix, replacement); longest first. "ogi" and "li" have conditions of their own.
    ("ization", "ize"), ("ational", "ate"), ("fulness", "ful"), ("ousness", "ous"), ("iveness", "ive"),
    ("tional", "tion"), ("biliti", "ble"), ("lessli", "less"), ("entli", "ent"), ("ation", "ate"), ("alism", "al"),
    ("aliti", "al"), ("ousli", "ous"), ("iviti", "ive"), ("fulli", "ful"), ("enci", "ence"), ("anci", "ance"),
    ("abli", "able"), ("izer", "ize"), ("ator", "ate"), ("alli", "al"), ("bli", "ble"), ("ogi", "og"), ("li", ""),
)
STEP_3 = (
    ("ational", "ate"), ("tional", "tion"), ("alize", "al"), ("icate", "ic"), ("iciti", "ic"), ("ative", ""),
    ("ical", "ic"), ("ness", ""), ("ful", ""),
)
STEP_4 = ("ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate", "iti", "ous", "ive", "ize",
          "ion", "al", "er", "ic")


def _regions(word: str) -> Tuple[int, int]:
    """R1 starts after the first non-vowel that follows a vowel; R2 the same within R1."""
    def after(start: int) -> int:
        for i in range(start + 1, len(word)):
            if word[i] not in VOWELS and word[i - 1] in VOWELS:
                return i + 1
        return len(word)

    p1 = next((len(prefix) for prefix in R1_PREFIXES if word.startswith(prefix)), None)
    if p1 is None:
        p1 = after(0)
    return p1, after(p1) if p1 < len(word) else len(word)


def _short_syllable_at_end(word: str) -> bool:
    if len(word) == 2:
        return word[0] in VOWELS and word[1] not in VOWELS
    return (len(word) >= 3 and word[-1] not in VOWELS and word[-1] not in "wxY" and word[-2] in VOWELS
            and word[-3] not in VOWELS)


def _ending(word: str, suffixes) -> Optional[str]:
    """The longest of `suffixes` the word ends with (the steps never try a shorter one after it)."""
    for suffix in suffixes:
        if word.endswith(suffix):
            return suffix
    return None


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    word = word.lower().replace("\u2019", "'").replace("\u2018", "'").replace("\u201b", "'")
    if len(word) <= 2:
        return word
    if word in EXCEPTIONS_1:
        return EXCEPTIONS_1[word]
    word = word.lstrip("'")
    if word.startswith("y"):
        word = "Y" + word[1:]
    marked = list(word)
    for i in range(1, len(marked)):  # a y after a vowel is a consonant (a marked Y is not a vowel)
        if marked[i] == "y" and marked[i - 1] in VOWELS:
            marked[i] = "Y"
    word = "".join(marked)
    p1, p2 = _regions(word)

    for apostrophe in ("'s'", "'s", "'"):  # step 0
        if word.endswith(apostrophe):
            word = word[: -len(apostrophe)]
            break

    suffix = _ending(word, ("sses", "ied", "ies", "us", "ss", "s"))  # step 1a
    if suffix == "sses":
        word = word[:-2]
    elif suffix in ("ied", "ies"):
        word = word[:-2] if len(word) > 4 else word[:-1]
    elif suffix == "s" and any(ch in VOWELS for ch in word[:-2]):
        word = word[:-1]
    if word in EXCEPTIONS_2:
        return word

    suffix = _ending(word, ("eedly", "ingly", "edly", "eed", "ing", "ed"))  # step 1b
    if suffix in ("eed", "eedly"):
        if len(word) - len(suffix) >= p1:
            word = word[: -len(suffix)] + "ee"
    elif suffix and any(ch in VOWELS for ch in word[: -len(suffix)]):
        word = word[: -len(suffix)]
        if word.endswith(("at", "bl", "iz")):
            word += "e"
        elif word.endswith(DOUBLES):
            word = word[:-1]
        elif p1 >= len(word) and _short_syllable_at_end(word):
            word += "e"

    if len(word) > 2 and word[-1] in "yY" and word[-2] not in VOWELS:  # step 1c
        word = word[:-1] + "i"

    suffix = _ending(word, [s for s, _ in STEP_2])  # step 2
    if suffix and len(word) - len(suffix) >= p1:
        replacement = dict(STEP_2)[suffix]
        if suffix == "ogi":
            if word[-4] == "l":
                word = word[:-1]
        elif suffix == "li":
            if word[-3] in LI_ENDINGS:
                word = word[:-2]
        else:
            word = word[: -len(suffix)] + replacement

    suffix = _ending(word, [s for s, _ in STEP_3])  # step 3
    if suffix and len(word) - len(suffix) >= p1:
        if suffix == "ative":
            if len(word) - len(suffix) >= p2:
                word = word[:-5]
        else:
            word = word[: -len(suffix)] + dict(STEP_3)[suffix]

    suffix = _ending(word, STEP_4)  # step 4
    if suffix and len(word) - len(suffix) >= p2:
        if suffix != "ion" or word[-4:-3] in ("s", "t"):
            word = word[: -len(suffix)]

    if word.endswith("e"):  # step 5
        if len(word) - 1 >= p2:
            word = word[:-1]
        elif len(word) - 1 >= p1 and not _short_syllable_at_end(word[:-1]):
            word = word[:-1]
    elif word.endswith("ll") and len(word) - 1 >= p2:
        word = word[:-1]
    return word.replace("Y", "y")
