"""Joins the language layer to the engine: text in, decision out."""
from __future__ import annotations

from typing import Iterable, Optional

from ..lazy import Lazy
from ..nlp.pipeline import ClinicalPipeline, shared_pipeline
from .engine import Decision, TriageEngine
from .rulebook import Rulebook, load_rulebook


class TriageService:
    def __init__(self, pipeline: Optional[ClinicalPipeline] = None, rulebook: Optional[Rulebook] = None):
        self.pipeline = pipeline or shared_pipeline()
        self.engine = TriageEngine(rulebook or load_rulebook())

    @property
    def rulebook(self) -> Rulebook:
        return self.engine.rulebook

    def assess(self, text: str) -> Decision:
        """Triage one message on its own."""
        return self.engine.decide(self.pipeline.findings(text))

    def assess_conversation(self, messages: Iterable[str]) -> Decision:
        """Triage everything the person has said so far: findings from every message count."""
        findings = []
        for message in messages:
            findings.extend(self.pipeline.findings(message))
        return self.engine.decide(findings)


_shared = Lazy(TriageService)


def shared_service() -> TriageService:
    """One service per process, built on first use (never at import time)."""
    return _shared.get()
