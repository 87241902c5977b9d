"""The symptom picture of a session: what the person has said so far, built one message at a time.

The picture is kept between turns (the triage action stores it in slots, see ``as_slots``), so
each turn reads only the new message: the work per turn does not grow with the conversation.
No Rasa here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..nlp.findings import Finding

# Where a later answer replaces an earlier one ("actually it's both legs"). Red flags are
# never replaced: once given, an emergency sign stands.
CORRECTABLE_QUESTIONS = ("side", "location", "pattern")

# Slots of the picture besides one slot per question of the rulebook (domain.yml).
FINDINGS_SLOT = "findings"
ANSWERED_SLOT = "answered_questions"
MESSAGES_SLOT = "messages_read"


@dataclass(frozen=True)
class Picture:
    findings: Tuple[Finding, ...] = ()
    answered: FrozenSet[str] = frozenset()  # questions answered by a no, "don't know", "skip" or in words
    messages: int = 0  # messages read since the session (or the last "start over") began

    def with_message(self, found: Sequence[Finding], answered: Iterable[str],
                     questions: Mapping[str, FrozenSet[str]]) -> "Picture":
        """The picture after one more message: its findings added, and where the message answers a
        correctable question again, the earlier answer to it dropped (never a red flag)."""
        corrected = {q for q in CORRECTABLE_QUESTIONS if any(f.is_present and f.concept in questions[q] for f in found)}
        replaced = frozenset().union(*(questions[q] for q in corrected)) if corrected else frozenset()
        kept = [f for f in self.findings if f.concept not in replaced or f.category == "red_flag"]
        for finding in found:
            if finding not in kept:  # the same finding said twice counts once
                kept.append(finding)
        return Picture(tuple(kept), self.answered | frozenset(answered), self.messages + 1)

    def present(self, concepts: FrozenSet[str]) -> List[str]:
        """The concepts of one question the person has now, in the order they said them."""
        seen: List[str] = []
        for finding in self.findings:
            if finding.is_present and finding.concept in concepts and finding.concept not in seen:
                seen.append(finding.concept)
        return seen

    # ------------------------------------------------------------------ slots
    def as_slots(self, questions: Mapping[str, FrozenSet[str]]) -> Dict[str, Any]:
        """Slot values: the findings with their status, the questions answered, and one slot per
        question of the rulebook with the concepts present (for people reading the tracker)."""
        slots: Dict[str, Any] = {q: self.present(concepts) or None for q, concepts in questions.items()}
        slots[FINDINGS_SLOT] = [f.as_record() for f in self.findings] or None
        slots[ANSWERED_SLOT] = sorted(self.answered) or None
        slots[MESSAGES_SLOT] = float(self.messages) if self.messages else None
        return slots

    @classmethod
    def from_slots(cls, slot: Callable[[str], Optional[Any]]) -> "Picture":
        findings = tuple(Finding.from_record(record) for record in slot(FINDINGS_SLOT) or ())
        return cls(findings, frozenset(slot(ANSWERED_SLOT) or ()), int(slot(MESSAGES_SLOT) or 0))

