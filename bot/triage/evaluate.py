"""Scores the triage service on a vignette set: ``python -m bot.triage.evaluate [FILE]``.

Per category: how many cases, emergency recall (of the cases that are emergencies),
false emergencies (non-emergencies called emergencies), level accuracy, and red flags
found/denied as the vignette expects.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from .rulebook import EMERGENCY, LEVELS

DEFAULT_VIGNETTES = Path(__file__).resolve().parents[2] / "tests" / "data" / "vignettes.yml"
_VIGNETTE_KEYS = {"id", "category", "text", "level", "red_flags", "absent"}


@dataclass(frozen=True)
class Vignette:
    id: str
    category: str
    text: str
    level: str
    red_flags: tuple = ()
    absent: tuple = ()


@dataclass
class Outcome:
    vignette: Vignette
    level: str
    present: frozenset

    @property
    def level_ok(self) -> bool:
        return self.level == self.vignette.level

    @property
    def flags_ok(self) -> bool:
        return set(self.vignette.red_flags) <= self.present and not (set(self.vignette.absent) & self.present)

    @property
    def ok(self) -> bool:
        return self.level_ok and self.flags_ok


@dataclass
class CategoryScore:
    count: int = 0
    emergencies: int = 0
    emergencies_found: int = 0
    false_emergencies: int = 0
    level_correct: int = 0
    failures: List[Outcome] = field(default_factory=list)

    @property
    def recall(self) -> Optional[float]:
        return self.emergencies_found / self.emergencies if self.emergencies else None

    @property
    def accuracy(self) -> float:
        return self.level_correct / self.count if self.count else 0.0


def load_vignettes(path: Path = DEFAULT_VIGNETTES) -> List[Vignette]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    vignettes, seen = [], set()
    for index, raw in enumerate(data["vignettes"]):
        unknown = set(raw) - _VIGNETTE_KEYS
        if unknown:
            raise ValueError(f"{path}: vignette #{index + 1}: unknown key(s) {sorted(unknown)}")
        if raw["level"] not in LEVELS:
            raise ValueError(f"{path}: vignette {raw['id']!r}: unknown level {raw['level']!r}")
        if raw["id"] in seen:
            raise ValueError(f"{path}: vignette id {raw['id']!r} is used twice")
        seen.add(raw["id"])
        vignettes.append(
            Vignette(
                id=raw["id"],
                category=raw["category"],
                text=raw["text"],
                level=raw["level"],
                red_flags=tuple(raw.get("red_flags") or ()),
                absent=tuple(raw.get("absent") or ()),
            )
        )
    return vignettes


def run(vignettes: List[Vignette], service) -> List[Outcome]:
    outcomes = []
    for vignette in vignettes:
        decision = service.assess(vignette.text)
        present = frozenset(f.concept for f in decision.findings if f.is_present)
        outcomes.append(Outcome(vignette, decision.level, present))
    return outcomes


def score(outcomes: List[Outcome]) -> Dict[str, CategoryScore]:
    scores: Dict[str, CategoryScore] = {}
    for outcome in outcomes:
        for key in (outcome.vignette.category, "ALL"):
            entry = scores.setdefault(key, CategoryScore())
            entry.count += 1
            expected_emergency = outcome.vignette.level == EMERGENCY
            entry.emergencies += expected_emergency
            entry.emergencies_found += expected_emergency and outcome.level == EMERGENCY
            entry.false_emergencies += (not expected_emergency) and outcome.level == EMERGENCY
            entry.level_correct += outcome.level_ok
            if not outcome.ok and key != "ALL":
                entry.failures.append(outcome)
    return scores


def table(scores: Dict[str, CategoryScore]) -> str:
    header = f"{'category':<18} {'count':>5} {'recall':>8} {'false em.':>9} {'level acc.':>10}"
    lines = [header, "-" * len(header)]
    for name in sorted(scores, key=lambda n: (n == "ALL", n)):
        entry = scores[name]
        recall = f"{entry.recall:.1%}" if entry.recall is not None else "-"
        lines.append(
            f"{name:<18} {entry.count:>5} {recall:>8} {entry.false_emergencies:>9} {entry.accuracy:>10.1%}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.triage.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("vignettes", nargs="?", type=Path, default=DEFAULT_VIGNETTES)
    parser.add_argument("--show-failures", action="store_true", help="list every case that came out wrong")
    args = parser.parse_args(argv)

    from .service import TriageService

    print(f"Loading the language pipeline and {args.vignettes} ...", file=sys.stderr)
    outcomes = run(load_vignettes(args.vignettes), TriageService())
    scores = score(outcomes)
    print(table(scores))
    failures = [o for name, s in scores.items() if name != "ALL" for o in s.failures]
    if failures and args.show_failures:
        print("\nCases that came out wrong:")
        for outcome in failures:
            v = outcome.vignette
            print(f"  {v.id}: expected {v.level}, got {outcome.level}; present={sorted(outcome.present)}\n    {v.text}")
    elif failures:
        print(f"\n{len(failures)} case(s) came out wrong; --show-failures lists them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
