"""Joins the language layer to the engine: text in, decision out."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Iterable, Optional

from ..lazy import Lazy
from ..nlp.pipeline import ClinicalPipeline, shared_pipeline
from .engine import Decision, TriageEngine
from .rulebook import Rulebook, load_rulebook

SHARED_MEMORY = 256  # recent messages: the channels' guard and the Rasa server's NLU ask about the same text


class TriageService:
    def __init__(self, pipeline: Optional[ClinicalPipeline] = None, rulebook: Optional[Rulebook] = None, remember: int = 0):
        self.pipeline = pipeline or shared_pipeline()
        self.engine = TriageEngine(rulebook or load_rulebook())
        self.remember = remember
        self._recent: "OrderedDict[str, Decision]" = OrderedDict()
        # The pipeline is used from the event loop and from the guard's worker thread: one at a time.
        self._lock = threading.Lock()

    @property
    def rulebook(self) -> Rulebook:
        return self.engine.rulebook

    def assess(self, text: str) -> Decision:
        """Triage one message on its own. With ``remember``, the same text is decided once
        (a Decision is immutable, so sharing it is safe)."""
        with self._lock:
            decision = self._recent.pop(text, None)
            if decision is None:
                decision = self.engine.decide(self.pipeline.findings(text))
            if self.remember:
                self._recent[text] = decision  # now the most recent
                while len(self._recent) > self.remember:
                    self._recent.popitem(last=False)
            return decision

    def assess_conversation(self, messages: Iterable[str]) -> Decision:
        """Triage everything the person has said so far: findings from every message count."""
        findings = []
        with self._lock:
            for message in messages:
                findings.extend(self.pipeline.findings(message))
        return self.engine.decide(findings)


_shared = Lazy(lambda: TriageService(remember=SHARED_MEMORY))


def shared_service() -> TriageService:
    """One service per process, built on first use (never at import time)."""
    return _shared.get()
