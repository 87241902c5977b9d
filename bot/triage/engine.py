"""The triage engine: findings in, decision out. Pure Python; knows nothing of Rasa or spaCy.

Emergency rules are always tried first and, when one fires, decide on their own; only
then the see-a-doctor rules, and only then self-care. ``undetermined`` means that no
criterion is met yet, and ``missing`` says what the assistant should still ask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

from ..nlp.findings import ANSWER, NEGATED, Finding
from .levels import EMERGENCY, RED_FLAGS, RULE_LEVELS, UNDETERMINED
from .rulebook import Condition, Rule, Rulebook


@dataclass(frozen=True)
class Facts:
    """The findings, boiled down to what rule conditions look at."""

    present: frozenset
    mentioned: frozenset
    longest_minutes: Optional[float]

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> "Facts":
        present, mentioned, minutes = set(), set(), []
        for finding in findings:
            if finding.suspected:  # counts once confirmed (see suspected_signs)
                continue
            mentioned.add(finding.concept)
            if finding.is_present:
                present.add(finding.concept)
                if finding.minutes is not None:
                    minutes.append(finding.minutes)
        return cls(frozenset(present), frozenset(mentioned), max(minutes) if minutes else None)

    def satisfy(self, condition: Condition) -> bool:
        if condition.any_of and not (condition.any_of & self.present):
            return False
        if any(not (alternatives & self.present) for alternatives in condition.all_of):
            return False
        if condition.none_of & self.present:
            return False
        if condition.duration_over_minutes is not None:
            if self.longest_minutes is None or self.longest_minutes <= condition.duration_over_minutes:
                return False
        if condition.duration_at_most_minutes is not None and self.longest_minutes is not None:
            if self.longest_minutes > condition.duration_at_most_minutes:
                return False
        return True


@dataclass(frozen=True)
class Decision:
    level: str
    rules: Tuple[Rule, ...]
    findings: Tuple[Finding, ...]
    missing: Tuple[str, ...]
    rulebook_version: str = ""
    suspected: Tuple[str, ...] = ()  # red flags to ask back before anything else (see suspected_signs)
    # The symptom picture in the person's words, for staff: (question id, or RED_FLAGS; concept; text).
    summary: Tuple[Tuple[str, str, str], ...] = ()

    @property
    def is_emergency(self) -> bool:
        return self.level == EMERGENCY

    @property
    def red_flags(self) -> List[str]:
        return [rule.id for rule in self.rules if rule.level == EMERGENCY]

    def reasons(self) -> List[dict]:
        return [
            {
                "rule": rule.id,
                "level": rule.level,
                "source": rule.sources[0].document,
                "quote": rule.sources[0].quote,
                "explanation": rule.explanation,
                "sources": [{"document": s.document, "quote": s.quote} for s in rule.sources],
            }
            for rule in self.rules
        ]

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "red_flags": self.red_flags,
            "reasons": self.reasons(),
            "findings": [finding.as_dict() for finding in self.findings],
            "missing": list(self.missing),
            "suspected": list(self.suspected),
            "rulebook_version": self.rulebook_version,
            "summary": summary_dicts(self.summary),
        }


def summary_dicts(summary: Sequence[Tuple[str, str, str]]) -> List[dict]:
    return [{"question": question, "concept": concept, "text": text} for question, concept, text in summary]


def suspected_signs(findings: Sequence[Finding], facts: Facts) -> Tuple[str, ...]:
    """Signs only one detector found, in the order found, that are neither found otherwise nor
    already denied by the person's answer to the question about them."""
    denied = {f.concept for f in findings if ANSWER in f.detected_by and f.status == NEGATED}
    out = []
    for finding in findings:
        concept = finding.concept
        if finding.suspected and finding.is_present and concept not in facts.present | denied and concept not in out:
            out.append(concept)
    return tuple(out)


@dataclass
class TriageEngine:
    rulebook: Rulebook
    _levels: Sequence[Tuple[str, Tuple[Rule, ...]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._levels = [(level, self.rulebook.rules_for(level)) for level in RULE_LEVELS]

    def decide(self, findings: Iterable[Finding]) -> Decision:
        findings = tuple(findings)
        facts = Facts.from_findings(findings)
        summary = self.summary(findings)
        for level, rules in self._levels:
            fired = tuple(rule for rule in rules if facts.satisfy(rule.condition))
            if fired:
                # In an emergency nothing more is to be asked: the advice is to get help now.
                if level == EMERGENCY:
                    return Decision(level, fired, findings, (), self.rulebook.version, summary=summary)
                return Decision(level, fired, findings, self.missing(facts), self.rulebook.version,
                                suspected_signs(findings, facts), summary)
        return Decision(UNDETERMINED, (), findings, self.missing(facts), self.rulebook.version,
                        suspected_signs(findings, facts), summary)

    def summary(self, findings: Sequence[Finding]) -> Tuple[Tuple[str, str, str], ...]:
        """What the person has now, in their words: the red flags first, then by the rulebook's questions."""
        items = [(RED_FLAGS, f.concept, f.text) for f in findings if f.is_present and f.category == "red_flag" and not f.suspected]
        for question in self.rulebook.questions:
            items += [(question.id, f.concept, f.text) for f in findings if f.is_present and f.concept in question.concepts]
        return tuple(dict.fromkeys(items))

    def missing(self, facts: Facts) -> Tuple[str, ...]:
        return tuple(
            question.id for question in self.rulebook.questions if not (question.concepts & facts.mentioned)
        )
