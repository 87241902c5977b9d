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
MAX_CHARS = 5000  # longer text is cut: a triage message is never this long, and matching stays fast


def normalise(text: str) -> str:
    """Straight quotes, no control or zero-width characters, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in text)
    return _SPACES.sub(" ", text).strip()[:MAX_CHARS]


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
