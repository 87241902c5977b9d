"""What the language layer hands to the engine: findings with an assertion status."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Mapping, Optional, Tuple

# Statuses a finding can have. Only PRESENT and UNCERTAIN count as the person having it:
# when someone is unsure about a red flag, the documents' caution ("seek immediate care") wins.
PRESENT = "present"
UNCERTAIN = "uncertain"
NEGATED = "negated"
HYPOTHETICAL = "hypothetical"
HISTORICAL = "historical"
FAMILY = "family"

STATUSES = (PRESENT, UNCERTAIN, NEGATED, HYPOTHETICAL, HISTORICAL, FAMILY)
COUNTS_AS_PRESENT = frozenset({PRESENT, UNCERTAIN})

# Who found a finding: the patterns of concepts.yml, the clause embeddings (bot/nlp/semantic.py),
# or the person's own yes or no to a question.
PATTERNS, EMBEDDING, ANSWER = "patterns", "embedding", "answer"


@dataclass(frozen=True)
class Finding:
    """One concept found in the text, e.g. ``bladder_bowel_loss`` from "can't control my bladder"."""

    concept: str
    text: str
    status: str = PRESENT
    category: str = ""
    minutes: Optional[float] = None  # only for ``duration`` findings
    detected_by: Tuple[str, ...] = (PATTERNS,)
    score: Optional[float] = None  # the embedding's cosine, when it took part
    # A red flag only one detector found: it counts once the person confirms it (the assistant asks).
    suspected: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown finding status {self.status!r}; expected one of {STATUSES}")

    @property
    def is_present(self) -> bool:
        return self.status in COUNTS_AS_PRESENT

    def as_dict(self) -> dict:
        data: Dict[str, Any] = {"concept": self.concept, "text": self.text, "status": self.status}
        if self.minutes is not None:
            data["minutes"] = self.minutes
        if self.category == "red_flag" or self.detected_by != (PATTERNS,):
            data["detected_by"] = list(self.detected_by)
            if self.score is not None:
                data["score"] = self.score
            if self.suspected:
                data["suspected"] = True
        return data

    def as_record(self) -> Dict[str, Any]:
        """Every field, as JSON: how a finding travels (Rasa's parse data, slots) and comes back (from_record)."""
        record = asdict(self)
        record["detected_by"] = list(self.detected_by)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "Finding":
        unknown = set(record) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown finding field(s) {sorted(unknown)}")
        return cls(**{**record, "detected_by": tuple(record.get("detected_by") or (PATTERNS,))})
