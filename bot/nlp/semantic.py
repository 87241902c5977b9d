"""The second red-flag detector: clause embeddings compared with patients' descriptions of each sign.

It shares nothing with the patterns of concepts.yml. Each clause (bot/nlp/clauses.py), without its
numbness words, is embedded by all-MiniLM-L6-v2 (bot/nlp/embedding.py) and compared with every
description in resources/sign_descriptions.yml; a clause is a sign when its closest description
reaches the bank's ``found`` cosine and beats the closest benign anchor by ``benign_margin``.
Embeddings ignore "no", "if" and "years ago" (a negated clause scores like the sign itself), so this
detector only says *which* sign a clause talks about; whether it is present is decided on the
clause by ConText, in the pipeline.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from .clauses import comparable_text
from .resources import SignBank, load_sign_bank

MIN_CHARS = 4  # a clause shorter than this once the numbness words are gone says nothing


def _as_compared(text: str) -> str:
    compared = comparable_text(text)
    return compared if len(compared) >= MIN_CHARS else text


@dataclass(frozen=True)
class SignMatch:
    concept: str
    score: float  # cosine with the closest description of the sign
    description: str  # that description (why it matched, for staff and for tuning)


class SignDetector:
    def __init__(self, bank: Optional[SignBank] = None, encoder=None):
        from .embedding import shared_encoder

        self.bank = bank or load_sign_bank()
        self.encoder = encoder or shared_encoder()
        texts: List[str] = []
        owners: List[int] = []
        for index, sign in enumerate(self.bank.entries):
            texts.extend(sign.descriptions)
            owners.extend([index] * len(sign.descriptions))
        self._texts = texts
        self._owners = np.asarray(owners)
        self._is_sign = self._owners < len(self.bank.signs)
        # Descriptions and anchors are compared as clauses are: without numbness and leg words.
        self._signs = self.encoder.encode([_as_compared(t) for t in texts])  # (descriptions, 384), unit rows
        self._benign = self.encoder.encode([_as_compared(t) for t in self.bank.benign])

    def matches(self, clauses: Sequence[str]) -> List[Optional[SignMatch]]:
        """For each clause, the sign it describes, or None."""
        texts = [comparable_text(c) for c in clauses]
        wanted = [i for i, t in enumerate(texts) if len(t) >= MIN_CHARS]
        out: List[Optional[SignMatch]] = [None] * len(texts)
        if not wanted:
            return out
        vectors = self.encoder.encode([texts[i] for i in wanted])
        similarity = vectors @ self._signs.T
        benign = (vectors @ self._benign.T).max(axis=1)
        signs, others = self._is_sign, ~self._is_sign
        for row, index in enumerate(wanted):
            # A sign must also beat the everyday clauses; the other findings (the benign pattern,
            # which those everyday clauses resemble on purpose) need only come closest.
            best_sign = int(np.flatnonzero(signs)[similarity[row, signs].argmax()])
            score = float(similarity[row, best_sign])
            if score >= self.bank.found and score - float(benign[row]) >= self.bank.benign_margin:
                out[index] = self._match(best_sign, score)
            elif others.any():
                best_other = int(np.flatnonzero(others)[similarity[row, others].argmax()])
                other_score = float(similarity[row, best_other])
                if other_score >= self.bank.found and other_score > score:
                    out[index] = self._match(best_other, other_score)
        return out

    def unless(self, concept: str) -> tuple:
        """The concepts that, found by the patterns, rule this one out (see SignDescriptions)."""
        return next((e.unless for e in self.bank.entries if e.concept == concept), ())

    def _match(self, row: int, score: float) -> SignMatch:
        return SignMatch(self.bank.entries[int(self._owners[row])].concept, round(score, 3), self._texts[row])
