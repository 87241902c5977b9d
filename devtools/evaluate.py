"""Scores the triage service on vignette sets: ``python -m devtools.evaluate [FILE]`` or ``--blind``.

Per category: how many cases, emergency recall (of the cases that are emergencies),
false emergencies (non-emergencies called emergencies), level accuracy, and red flags
found/denied as the vignette expects. A case where the assistant would first ask back a sign only
one detector found ("Are you having trouble breathing right now?") is counted apart: "asked".

``--blind`` scores every set of tests/data/blind/ (written by people who never saw the code or
the patterns; ``frozen/`` is never used for tuning) and prints each beside its first-run figure,
kept in tests/data/blind/first_run.json. ``--record-first-run`` records there, once, before any
tuning, the sets it has no figures for yet (a new round), and never overwrites a set's first run.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bot.triage.levels import EMERGENCY, LEVELS

DEFAULT_VIGNETTES = Path(__file__).resolve().parents[1] / "tests" / "data" / "vignettes.yml"
BLIND_DIR = DEFAULT_VIGNETTES.parent / "blind"
FIRST_RUN = BLIND_DIR / "first_run.json"
BLIND_PARTS = ("frozen", "tuning")
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
    asked: bool = False  # not an emergency yet, but a suspected sign would be asked back first

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
    emergencies_asked: int = 0  # emergencies not called at once, where a suspected sign is asked back
    non_emergencies_asked: int = 0
    level_correct: int = 0
    failures: List[Outcome] = field(default_factory=list)

    @property
    def recall(self) -> Optional[float]:
        return self.emergencies_found / self.emergencies if self.emergencies else None

    @property
    def recall_with_question(self) -> Optional[float]:
        """Emergencies called at once or reached by the confirmation question (if the person says yes)."""
        if not self.emergencies:
            return None
        return (self.emergencies_found + self.emergencies_asked) / self.emergencies

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
        present = frozenset(f.concept for f in decision.findings if f.is_present and not f.suspected)
        outcomes.append(Outcome(vignette, decision.level, present, bool(decision.suspected) and not decision.is_emergency))
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
            entry.emergencies_asked += expected_emergency and outcome.asked
            entry.non_emergencies_asked += (not expected_emergency) and outcome.asked
            entry.level_correct += outcome.level_ok
            if not outcome.ok and key != "ALL":
                entry.failures.append(outcome)
    return scores


def table(scores: Dict[str, CategoryScore]) -> str:
    header = (f"{'category':<18} {'count':>5} {'recall':>8} {'+asked':>8} {'false em.':>9} {'asked':>6} "
              f"{'level acc.':>10}")
    lines = [header, "-" * len(header)]
    for name in sorted(scores, key=lambda n: (n == "ALL", n)):
        entry = scores[name]
        recall = percent(entry.recall)
        with_question = percent(entry.recall_with_question)
        lines.append(
            f"{name:<18} {entry.count:>5} {recall:>8} {with_question:>8} {entry.false_emergencies:>9} "
            f"{entry.non_emergencies_asked:>6} {entry.accuracy:>10.1%}"
        )
    return "\n".join(lines)


def summary(scores: Dict[str, CategoryScore]) -> Dict[str, Optional[float]]:
    """The figures the targets name: emergency recall, false emergencies (all, and on traps), and
    level accuracy of the see-a-doctor and self-care cases."""
    def accuracy(name: str) -> Optional[float]:
        return round(scores[name].accuracy, 4) if name in scores else None

    total = scores["ALL"]
    recall, with_question = total.recall, total.recall_with_question
    return {
        "count": total.count,
        "emergency_recall": round(recall, 4) if recall is not None else None,
        "emergency_recall_with_question": round(with_question, 4) if with_question is not None else None,
        "questions_on_non_emergencies": total.non_emergencies_asked,
        "false_emergencies": total.false_emergencies,
        "false_emergencies_on_traps": scores["trap"].false_emergencies if "trap" in scores else None,
        "doctor_accuracy": accuracy("doctor"),
        "self_care_accuracy": accuracy("self_care"),
    }


def blind_sets() -> List[Path]:
    return [path for part in BLIND_PARTS for path in sorted((BLIND_DIR / part).glob("*.yml"))
            if "vignettes" in (yaml.safe_load(path.read_text(encoding="utf-8")) or {})]


def percent(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1%}"


def comparison(current: Dict[str, dict], first: Dict[str, dict]) -> str:
    """One line per set: each figure as first run -> now."""
    header = (f"{'set':<28} {'n':>4}  {'emergency recall':>17}  {'+ asked':>7}  {'false em. (traps)':>19}  "
              f"{'asked':>5}  {'doctor acc.':>15}  {'self-care acc.':>15}")
    lines = [header, "-" * len(header)]
    for name, now in current.items():
        was = first.get(name, {})

        def pair(key, fmt):
            return f"{fmt(was.get(key)) if was else '?'} -> {fmt(now[key])}"

        def count(value):
            return "-" if value is None else str(value)

        false_now = f"{now['false_emergencies']} ({count(now['false_emergencies_on_traps'])})"
        false_was = f"{was['false_emergencies']} ({count(was['false_emergencies_on_traps'])})" if was else "?"
        lines.append(f"{name:<28} {now['count']:>4}  {pair('emergency_recall', percent):>17}  "
                     f"{percent(now.get('emergency_recall_with_question')):>7}  "
                     f"{false_was + ' -> ' + false_now:>19}  {count(now.get('questions_on_non_emergencies')):>5}  "
                     f"{pair('doctor_accuracy', percent):>15}  {pair('self_care_accuracy', percent):>15}")
    return "\n".join(lines)


def record_first_runs(current: Dict[str, dict]) -> int:
    """Adds to FIRST_RUN the figures of the sets it has none for yet (a new round of blind sets is
    recorded once, before any tuning on it); a set already recorded is never overwritten."""
    first = first_runs()
    new = {name: figures for name, figures in current.items() if name not in first}
    if not new:
        print(f"error: every set already has its first run in {FIRST_RUN}; first runs are recorded once, "
              "before tuning", file=sys.stderr)
        return 2
    FIRST_RUN.write_text(json.dumps({**first, **new}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"First-run figures of {', '.join(sorted(new))} written to {FIRST_RUN}", file=sys.stderr)
    return 0


def first_runs() -> Dict[str, dict]:
    return json.loads(FIRST_RUN.read_text(encoding="utf-8")) if FIRST_RUN.exists() else {}


def run_blind(service, record_first_run: bool) -> int:
    current = {}
    for path in blind_sets():
        name = f"{path.parent.name}/{path.stem}"
        current[name] = summary(score(run(load_vignettes(path), service)))
    if record_first_run and record_first_runs(current):
        return 2
    print("Blind sets (first run -> now):")
    print(comparison(current, first_runs()))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("vignettes", nargs="?", type=Path, default=DEFAULT_VIGNETTES)
    parser.add_argument("--show-failures", action="store_true", help="list every case that came out wrong")
    parser.add_argument("--blind", action="store_true", help="every set in tests/data/blind/, beside its first run")
    parser.add_argument("--record-first-run", action="store_true",
                        help="with --blind: record the first-run figures of the sets not recorded yet (once per set)")
    args = parser.parse_args(argv)

    from bot.triage.service import TriageService

    if args.blind:
        print("Loading the language pipeline ...", file=sys.stderr)
        return run_blind(TriageService(), args.record_first_run)

    print(f"Loading the language pipeline and {args.vignettes} ...", file=sys.stderr)
    outcomes = run(load_vignettes(args.vignettes), TriageService())
    scores = score(outcomes)
    print(table(scores))
    failures = [o for name, s in scores.items() if name != "ALL" for o in s.failures]
    if failures and args.show_failures:
        print("\nCases that came out wrong:")
        for outcome in failures:
            v = outcome.vignette
            asked = " (asks back a suspected sign)" if outcome.asked else ""
            print(f"  {v.id}: expected {v.level}, got {outcome.level}{asked}; present={sorted(outcome.present)}\n    {v.text}")
    elif failures:
        print(f"\n{len(failures)} case(s) came out wrong; --show-failures lists them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
