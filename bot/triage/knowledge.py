"""Clinical knowledge beyond the triage level: possible causes and advice, each with its sources.

Read with the rulebook's own parsers, so causes use the same conditions and groups as
rules and every quote is checked the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from ..datafiles import check_keys
from ..nlp.findings import Finding
from .engine import Facts
from .rulebook import DEFAULT_RULES_DIR, Condition, RulebookError, RulebookReader, Source

KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge"


@dataclass(frozen=True)
class Cause:
    id: str
    name: str
    condition: Condition
    sources: Tuple[Source, ...]


@dataclass(frozen=True)
class Advice:
    id: str
    text: str
    sources: Tuple[Source, ...]


@dataclass(frozen=True)
class Knowledge:
    causes: Tuple[Cause, ...]
    advice: Dict[str, Advice]

    def causes_for(self, findings: Iterable[Finding]) -> List[Cause]:
        facts = Facts.from_findings(findings)
        return [cause for cause in self.causes if facts.satisfy(cause.condition)]

    def all_sources(self) -> List[Tuple[str, Source]]:
        items = [(c.id, s) for c in self.causes for s in c.sources]
        items += [(a.id, s) for a in self.advice.values() for s in a.sources]
        return items


def load_knowledge(knowledge_dir: Optional[Path] = None, rules_dir: Optional[Path] = None) -> Knowledge:
    knowledge_dir = Path(knowledge_dir or KNOWLEDGE_DIR)
    reader = RulebookReader(Path(rules_dir or DEFAULT_RULES_DIR))

    causes_path = knowledge_dir / "causes.yml"
    data = check_keys(reader.read(causes_path), {"causes"}, str(causes_path), {"causes"}, error=RulebookError)
    causes = []
    for index, raw in enumerate(data["causes"] or []):
        where = f"{causes_path.name}: cause {raw.get('id', index + 1) if isinstance(raw, dict) else index + 1!r}"
        raw = check_keys(raw, {"id", "name", "when", "sources"}, where, {"id", "name", "when", "sources"}, error=RulebookError)
        causes.append(Cause(raw["id"], raw["name"], reader.condition(raw["when"], where), reader.sources(raw["sources"], where)))

    advice_path = knowledge_dir / "advice.yml"
    data = check_keys(reader.read(advice_path), {"advice"}, str(advice_path), {"advice"}, error=RulebookError)
    advice = {}
    for advice_id, raw in (data["advice"] or {}).items():
        where = f"{advice_path.name}: advice {advice_id!r}"
        raw = check_keys(raw, {"text", "sources"}, where, {"text", "sources"}, error=RulebookError)
        if not isinstance(raw["text"], str) or not raw["text"].strip():
            raise RulebookError(f"{where}: text must be non-empty")
        advice[advice_id] = Advice(advice_id, raw["text"].strip(), reader.sources(raw["sources"], where))
    return Knowledge(tuple(causes), advice)
