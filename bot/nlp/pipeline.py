"""The clinical language layer: free text in, findings with an assertion status out.

A blank English spaCy pipeline (no model download) with medspaCy's TargetMatcher for
concepts and ConText for negation, hypotheticals, history and family, both driven by
the patient-language rules in ``resources/``.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from typing import Dict, List, Optional, Tuple

from ..triage.findings import (
    FAMILY,
    HISTORICAL,
    HYPOTHETICAL,
    NEGATED,
    PRESENT,
    UNCERTAIN,
    Finding,
)
from ..lazy import Lazy
from .duration import measures_trigger, minutes_of
from .resources import ConceptRule, ModifierRule, load_concept_rules, load_modifier_rules

# When several modifiers touch one finding, the strongest reading wins.
_STATUS_BY_MODIFIER = [
    ("NEGATED_EXISTENCE", NEGATED),
    ("HYPOTHETICAL", HYPOTHETICAL),
    ("FAMILY", FAMILY),
    ("HISTORICAL", HISTORICAL),
    ("POSSIBLE_EXISTENCE", UNCERTAIN),
]

_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"'})
_PLURAL_PLACES = re.compile(r"^(?:feet|calves|thighs|knees|ankles|shins)$", re.IGNORECASE)
# A message is read in full up to about DETAIL_CHARS (cut between sentences). Past that, only
# the sentences that hold a red-flag phrase are read, each distinct sentence once, until one
# shows a red flag: a 100 KB paste stays fast, and an emergency sign at its end is still found.
# (Every emergency rule rests on red-flag concepts; tests/nlp checks that this stays so.)
DETAIL_CHARS = 2000
MAX_CHARS = 5000  # the most text the language pipeline is given at once
CONTEXT_CHARS = 150  # read around a red-flag phrase past DETAIL_CHARS: more than ConText's scope
_SENTENCE_END = re.compile(r"(?<=[.!?;\n])\s")


def normalise(text: str) -> str:
    """Straight quotes, no control or zero-width characters, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in text)
    return _SPACES.sub(" ", text).strip()


def pieces(text: str, size: int = MAX_CHARS) -> List[str]:
    """The text cut into pieces of at most ``size`` characters, between sentences where it can."""
    out = []
    while len(text) > size:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, size + 1)]
        cut = ends[-1] if ends else (text.rfind(" ", 0, size) + 1 or size)
        out.append(text[:cut].strip())
        text = text[cut:]
    return [p for p in out + [text.strip()] if p]


_IF = re.compile(r"\bif\b", re.IGNORECASE)


def _question_only(target, modifier, span_between) -> bool:
    return target.sent.text.rstrip().endswith("?")


def _conditional_question_only(target, modifier, span_between) -> bool:
    sentence = target.sent.text
    return sentence.rstrip().endswith("?") and bool(_IF.search(sentence))


def _on_modifies(rule: ModifierRule):
    if rule.only_in_conditional_questions:
        return _conditional_question_only
    if rule.only_in_questions:
        return _question_only
    return None


class ClinicalPipeline:
    """Builds the medspaCy pipeline once; ``findings(text)`` is then cheap and thread-safe."""

    def __init__(
        self,
        concept_rules: Optional[Tuple[ConceptRule, ...]] = None,
        modifier_rules: Optional[Tuple[ModifierRule, ...]] = None,
    ):
        self.concept_rules = concept_rules or load_concept_rules()
        self.modifier_rules = modifier_rules or load_modifier_rules(concepts=self.concept_rules)
        self.categories: Dict[str, str] = {rule.concept: rule.category for rule in self.concept_rules}
        self._nlp = self._build()
        self._red_flag_phrase = re.compile(
            "|".join(f"(?:{rule.pattern})" for rule in self.concept_rules if rule.category == "red_flag"), re.IGNORECASE
        )
        self._lock = threading.Lock()  # spaCy Doc extensions are shared state

    @property
    def concepts(self) -> frozenset:
        return frozenset(self.categories)

    def _build(self):
        import medspacy  # noqa: F401  (registers the medspaCy factories)
        import spacy
        from medspacy.context import ConTextRule
        from medspacy.target_matcher import TargetRule

        nlp = spacy.blank("en")
        sentencizer = nlp.add_pipe("sentencizer")
        sentencizer.punct_chars = set(sentencizer.punct_chars) | {"\n"}
        matcher = nlp.add_pipe("medspacy_target_matcher")
        matcher.add([TargetRule(rule.concept, rule.concept, pattern=rule.pattern) for rule in self.concept_rules])
        context = nlp.add_pipe(
            "medspacy_context",
            config={
                "rules": None,
                "span_attrs": None,
                # A modifier word inside a finding ("not" in "not able to walk") must not
                # go on to modify the findings around it.
                "prune_on_target_overlap": True,
                "terminating_types": self._terminating_types(),
            },
        )
        context.add(
            [
                ConTextRule(
                    literal=f"{rule.category.lower()}-{index}",
                    category=rule.category,
                    pattern=rule.pattern,
                    direction=rule.direction,
                    max_scope=rule.max_scope,
                    allowed_types=set(rule.allowed_concepts) if rule.allowed_concepts is not None else None,
                    on_modifies=_on_modifies(rule),
                )
                for index, rule in enumerate(self.modifier_rules)
            ]
        )
        return nlp

    def _terminating_types(self) -> Dict[str, List[str]]:
        """Which categories each clause-ending rule ends, as ConText's terminating_types wants it."""
        ended_by: Dict[str, List[str]] = {}
        for rule in self.modifier_rules:
            for category in rule.terminates:
                ended_by.setdefault(category, []).append(rule.category)
        return ended_by

    def findings(self, text: str) -> List[Finding]:
        text = normalise(text)
        if not text:
            return []
        head, *rest = pieces(text, DETAIL_CHARS)
        results = self._findings_of_piece(head[:MAX_CHARS])
        if rest:
            results.extend(self._red_flags_in(" ".join(rest)))
        return results

    def _red_flags_in(self, text: str) -> List[Finding]:
        """Red flags in the rest of a long message: each red-flag phrase read with the words
        around it (for "no", "if", "my father"...), each distinct passage once."""
        seen = set()
        for sentence in _SENTENCE_END.split(text):
            for match in self._red_flag_phrase.finditer(sentence):
                start = sentence.rfind(" ", 0, max(0, match.start() - CONTEXT_CHARS)) + 1
                end = sentence.find(" ", match.end() + CONTEXT_CHARS)
                passage = sentence[start : end if end > 0 else len(sentence)].strip()
                if passage in seen:
                    continue
                seen.add(passage)
                flags = [f for f in self._findings_of_piece(passage[:MAX_CHARS]) if f.category == "red_flag"]
                if any(f.is_present for f in flags):
                    return flags
        return []

    def _findings_of_piece(self, text: str) -> List[Finding]:
        with self._lock:
            doc = self._nlp(text)
            results = []
            for ent in doc.ents:
                concept = ent.label_
                minutes = None
                if concept == "duration":
                    if measures_trigger(text[: ent.start_char]):
                        continue
                    minutes = minutes_of(ent.text)
                    if minutes is None:
                        continue
                status = self._status(ent)
                results.append(
                    Finding(concept, ent.text, status, self.categories.get(concept, ""), minutes)
                )
                if _PLURAL_PLACES.match(ent.text):  # "my feet": a place on both legs
                    results.append(Finding("both_legs", ent.text, status, self.categories.get("both_legs", "")))
        return results

    def _status(self, ent) -> str:
        categories = {modifier.category for modifier in ent._.modifiers}
        if "RECENT" in categories:  # "...and his face IS drooping": now, whatever came before
            categories.discard("HISTORICAL")
            if self.categories.get(ent.label_) == "red_flag":
                categories.discard("FAMILY")
        for modifier_category, status in _STATUS_BY_MODIFIER:
            if modifier_category in categories:
                return status
        return PRESENT


_shared = Lazy(ClinicalPipeline)


def shared_pipeline() -> ClinicalPipeline:
    """One pipeline per process, built on first use (never at import time)."""
    return _shared.get()
