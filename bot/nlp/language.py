"""Is this message in English? A cheap check, used only to explain why nothing was understood.

The assistant reads English only. A message in another script (Arabic, Chinese, Cyrillic...)
or of several words none of which is a common English word gets a polite notice, but only
when nothing in it was understood: a typo-ridden English message is never told it is foreign.
"""
from __future__ import annotations

import re
import unicodedata

from spacy.lang.en.stop_words import STOP_WORDS

# Words with their contractions ("don't", "what's"), each read as spaCy's tokenizer splits it.
_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_CONTRACTION = re.compile(r"(?<=[^\W\d_])(n't|'s|'re|'ll|'ve|'m|'d)$")
# Words a person with a numb leg writes that are not on spaCy's list of English stop words.
_SYMPTOM_WORDS = frozenset(
    "leg legs foot feet toe toes numb numbness tingling tingly pins needles hurt hurts pain weak "
    "knee thigh calf ankle hip back sciatica yes no ok okay hi hello thanks help know sure think idk".split()
)
# Words common in other languages that are also English stop words ("me", "a", "no", "can").
_SHARED = frozenset({"me", "a", "no", "can", "i", "de", "do", "am", "is", "in", "on", "so", "die", "the"})
_MIN_WORDS = 3


def _is_latin(ch: str) -> bool:
    return ch.isascii() or "LATIN" in unicodedata.name(ch, "")


def other_script(text: str) -> bool:
    """Most letters are not Latin (Arabic, Chinese, Cyrillic...): certainly not English."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(map(_is_latin, letters)) < len(letters) / 2


def looks_english(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return True  # emoji, numbers, punctuation: nothing to say about the language
    if other_script(text):
        return False
    words = [w for word in _WORDS.findall(text.lower().replace("’", "'")) for w in _CONTRACTION.sub(r" \1", word).split()]
    if len(words) < _MIN_WORDS:
        return True  # "izq", "ok", "left leg": too short to tell
    english = sum(1 for w in words if (w in STOP_WORDS and w not in _SHARED) or w in _SYMPTOM_WORDS)
    return english / len(words) >= 0.2
