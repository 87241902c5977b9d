"""Turns a duration phrase ("for three weeks", "since yesterday") into minutes."""
from __future__ import annotations

import re
from typing import Optional

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "few": 3, "couple": 2, "several": 4, "many": 6,
}
_UNIT_MINUTES = [
    (re.compile(r"^(?:second|sec|moment)s?$"), 1 / 60),
    (re.compile(r"^(?:minute|min)s?$"), 1),
    (re.compile(r"^(?:hour|hr)s?$"), 60),
    (re.compile(r"^days?$"), 60 * 24),
    (re.compile(r"^(?:week|wk)s?$"), 60 * 24 * 7),
    (re.compile(r"^fortnights?$"), 60 * 24 * 14),
    (re.compile(r"^(?:month|mth)s?$"), 60 * 24 * 30),
    (re.compile(r"^(?:year|yr)s?$"), 60 * 24 * 365),
]
_SINCE = {
    "yesterday": 60 * 24, "last night": 60 * 12, "this morning": 60 * 4, "this afternoon": 60 * 2,
    "last week": 60 * 24 * 7, "the weekend": 60 * 24 * 3, "last month": 60 * 24 * 30,
    "last year": 60 * 24 * 365, "christmas": 60 * 24 * 30, "i woke up": 60 * 4,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ALL = {"day": 60 * 12, "night": 60 * 8, "week": 60 * 24 * 7, "morning": 60 * 4, "afternoon": 60 * 4}
_VAGUE_LONG = {"ages", "forever", "time", "while", "long"}
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")

# A duration soon after one of these words, with no word for the numbness in between,
# measures the trigger, not the numbness: "after sitting for two hours my foot tingled".
_TRIGGER_WORD = re.compile(
    r"^(?:sat|sit|sitting|stood|stand|standing|drive|driving|drove|ride|riding|rode|kneel\w*|knelt|cycl\w*"
    r"|bik\w*|work\w*|after|flight|flew|walk\w*|sleep\w*|slept|desk|gaming|meditat\w*|concert|kneeling"
    r"|folded|tucked|crossed|cross|lying|lay|squat\w*|perch\w*|curled|weeding|gardening|meeting|cinema)$",
    re.IGNORECASE,
)
_SENSATION_WORD = re.compile(r"^(?:numb\w*|tingl\w*|asleep|pins|needles|dead|feeling|sensation|it|its|it's)$", re.IGNORECASE)
_WORD = re.compile(r"[\w']+")
_CLAUSE_BREAK = re.compile(r"[.;!?]")


def minutes_of(phrase: str) -> Optional[float]:
    """Minutes in a duration phrase, or None when it is not one we can read."""
    words = phrase.lower().replace("-", " ").split()
    if not words:
        return None
    if words[0] == "since":
        rest = " ".join(words[1:])
        if rest in _SINCE:
            return float(_SINCE[rest])
        if rest in _WEEKDAYS:
            return float(60 * 24 * 4)  # a weekday: some days
        return None
    if words[0] == "all" and len(words) == 2:
        return float(_ALL.get(words[1], 60 * 12))
    if words[0] in ("for", "since", "over"):  # "for months", "over the last few weeks": no number given
        words = [w for w in words[1:] if w not in ("the", "last", "past")] or words
    if words[-1] in _VAGUE_LONG:  # "for ages", "a long time": weeks, at least
        return float(60 * 24 * 14)
    amount = None
    for word in words[:-1]:
        if _NUMBER.match(word):
            amount = float(word)
        elif word in _NUMBERS and (amount is None or word not in ("a", "an")):
            amount = float(_NUMBERS[word])
    unit = words[-1]
    for pattern, factor in _UNIT_MINUTES:
        if pattern.match(unit):
            return (amount if amount is not None else 1.0) * factor
    return None


def measures_trigger(text_before: str, text_after: str = "") -> bool:
    """True when the words around a duration say it is how long the person sat, drove, knelt...:
    "sat on my feet doing homework for ages", "a couple of hours kneeling to weed"."""
    clause = _CLAUSE_BREAK.split(text_before)[-1]
    for word in reversed(_WORD.findall(clause)[-12:]):
        if _SENSATION_WORD.match(word):
            return False
        if _TRIGGER_WORD.match(word):
            return True
    following = _WORD.findall(_CLAUSE_BREAK.split(text_after)[0])[:2]
    return any(_TRIGGER_WORD.match(word) for word in following if word.lower() != "after")
