"""Clauses of a spaCy Doc: each sentence cut at commas, semicolons, dashes and the words that join
clauses ("but", "and", "though", "because", ...), so that the second red-flag detector compares one
statement at a time, and a clause's negation or time stays with it."""
from __future__ import annotations

import re
from typing import List

# Where one statement ends and the next begins. "and" and "or" also join nouns ("bladder and
# bowels"): those pieces are short, and pieces of fewer than MIN_WORDS words join their neighbour.
_BREAK_WORDS = frozenset({
    "but", "and", "or", "though", "although", "because", "cause", "cos", "coz", "so", "plus", "then",
    "however", "whereas", "while", "also", "anyway", "except",
})
_BREAK_PUNCT = frozenset({",", ";", ":", "-", "--", "\u2013", "\u2014", "(", ")", "...", "\u2026"})
MIN_WORDS = 3
# Numbness words are in nearly every message and pull every clause towards every sign: the
# second detector compares what is left.
NUMBNESS_WORDS = re.compile(
    r"\b(?:numb(?:ness|ed)?|tingl\w*|pins and needles|pins & needles|prickl\w*|asleep)\b"
    # ... and the leg itself, which every message names: "my left leg went numb in a second" is
    # compared as "went in a second".
    r"|\b(?:(?:my|his|her|their|the|both|one|left|right|lower|upper|whole|of)\s+)*"
    r"(?:legs?|foot|feet|toes?|thighs?|calf|calves|shins?|knees?|ankles?)\b",
    re.IGNORECASE,
)


def clause_spans(doc) -> List:
    """The clauses of ``doc`` as spans, in order; short pieces are joined to the one before."""
    clauses: List = []
    for sentence in doc.sents:
        start = sentence.start
        pieces = []  # (start, end, the word that ended it)
        for token in sentence:
            if token.lower_ in _BREAK_WORDS or token.text in _BREAK_PUNCT:
                if token.i > start:
                    pieces.append((start, token.i, token.lower_))
                start = token.i + 1
        if sentence.end > start:
            pieces.append((start, sentence.end, ""))
        merged: List[list] = []
        carried = None  # a short piece before "and"/"or" ("my bladder and bowels ..."): joins the next
        for begin, end, ended_by in pieces:
            if carried is not None:
                begin, carried = carried, None
            words = sum(1 for t in doc[begin:end] if not t.is_punct)
            if words < MIN_WORDS and ended_by in ("and", "or"):
                carried = begin
                continue
            if merged and (words < MIN_WORDS or merged[-1][2] < MIN_WORDS):
                merged[-1][1] = end
                merged[-1][2] += words
            else:
                merged.append([begin, end, words])
        if carried is not None:
            merged.append([carried, sentence.end, 1])
        clauses.extend(doc[begin:end] for begin, end, words in merged if words)
    return clauses


def comparable_text(clause_text: str) -> str:
    """The clause as the embedding sees it: without numbness words, single spaces."""
    return " ".join(NUMBNESS_WORDS.sub(" ", clause_text).split())
