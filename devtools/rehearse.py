"""Plays the blind conversation sets through the conversation planner: ``python -m devtools.rehearse``.

Each conversation of tests/data/blind/{frozen,tuning}/conversations*.yml is an opening message
and the person's answer to each question the assistant may ask. The messages are classified by
the trained Rasa model's own NLU (models/current.tar.gz), as in production, and the planner asks
what it asks; each question gets the set's answer to it ("I don't know" when the set has none,
"skip" when the same question comes back, as a person would move on). A sign asked back ("Are
you having trouble breathing right now?") has no answer in the sets: it gets the truthful one
the script's label implies, yes in an emergency and no otherwise, so the figure shows whether
the assistant gets to the right question. The outcome is the most urgent level the assistant gave. Printed as the single-message
sets are: emergency recall, false emergencies, level accuracy, each beside the set's first run
(tests/data/blind/first_run.json; ``--record-first-run`` records a new set's once, before tuning;
the first sets are older than this scorer and have none); ``--show-failures`` lists the failures.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.datafiles import check_keys, read_yaml
from .evaluate import BLIND_DIR, BLIND_PARTS, CategoryScore, Outcome, Vignette, first_runs, percent, record_first_runs, summary
from .evaluate import score as score_outcomes
from bot.triage.levels import EMERGENCY, LEVELS, more_urgent
from bot.dialogue.conversation import Conversation, Given, Turn, confirmed_concept
from bot.dialogue.picture import Picture

MODEL = Path(__file__).resolve().parents[1] / "models" / "current.tar.gz"
MAX_TURNS = 14  # more than the rulebook's questions, so a loop shows as a failure, not a hang
_KEYS = {"id", "category", "opening", "answers", "level", "red_flags", "absent"}


@dataclass(frozen=True)
class Script:
    id: str
    category: str
    opening: str
    answers: Dict[str, str]
    level: str


@dataclass
class Played:
    script: Script
    level: str
    turns: List[Tuple[str, str]] = field(default_factory=list)  # (what the assistant asked, what was said)


def load_scripts(path: Path) -> List[Script]:
    data = check_keys(read_yaml(path), {"version", "conversations"}, str(path), {"conversations"})
    scripts = []
    for raw in data["conversations"]:
        raw = check_keys(raw, _KEYS, f"{path.name}: {raw.get('id')}", {"id", "category", "opening", "level"})
        if raw["level"] not in LEVELS:
            raise ValueError(f"{path}: {raw['id']}: unknown level {raw['level']!r}")
        scripts.append(Script(raw["id"], raw["category"], raw["opening"],
                              {str(k): str(v) for k, v in (raw.get("answers") or {}).items()}, raw["level"]))
    return scripts


class Player:
    def __init__(self, planner: Conversation, agent):
        self.planner, self.agent = planner, agent

    async def _turn(self, text: str, asked: Optional[str]) -> Turn:
        # As the triage action reads it: with the findings the model's own language layer put there.
        return Turn.parsed(text, await self.agent.parse_message(text), asked)

    def _answer(self, script: Script, asked: str, again: bool) -> str:
        if again:  # the answer was not understood: a person would move on rather than repeat it
            return "skip"
        if confirmed_concept(asked):  # asked back a sign: the truthful answer the script's label implies
            return "yes" if script.level == EMERGENCY else "no"
        return script.answers.get(asked, "I don't know")

    async def play(self, script: Script) -> Played:
        picture, given, asked, level = Picture(), Given(), None, "undetermined"
        played = Played(script, level)
        text = script.opening
        for _ in range(MAX_TURNS):
            turn = await self._turn(text, asked)
            played.turns.append((asked or "", text))
            plan = self.planner.plan(turn, picture, given)
            for reply in plan.replies:
                sent = (reply.payload or {}).get("triage", {}).get("level")
                if sent and more_urgent(sent, level):
                    level = sent
            if plan.decision.is_emergency:
                level = EMERGENCY
            again = plan.asked is not None and plan.asked == asked
            picture, given, asked = plan.picture, plan.given, plan.asked
            if level == EMERGENCY or asked is None:
                break
            text = self._answer(script, asked, again)
        played.level = level
        return played


def score(played: List[Played]) -> Dict[str, CategoryScore]:
    """The single-message sets' scoring, on each conversation's outcome (its opening stands for it)."""
    return score_outcomes([Outcome(Vignette(p.script.id, p.script.category, p.script.opening, p.script.level),
                                   p.level, frozenset()) for p in played])


def figures(scores: Dict[str, CategoryScore]) -> Dict[str, Optional[float]]:
    """The single-message sets' figures, and the level accuracy over all conversations."""
    return {**summary(scores), "level_accuracy": round(scores["ALL"].accuracy, 4)}


def line(name: str, now: Dict[str, Optional[float]], first: Optional[Dict[str, Optional[float]]]) -> str:
    def pair(key: str) -> str:
        return f"{percent(first.get(key)) if first else '?'} -> {percent(now[key])}"

    traps = "-" if now["false_emergencies_on_traps"] is None else now["false_emergencies_on_traps"]
    false_emergencies = f"{now['false_emergencies']} ({traps})"
    return (f"{name:<28} {now['count']:>4}  {pair('emergency_recall'):>17}  {false_emergencies:>19}  "
            f"{pair('level_accuracy'):>17}  {pair('doctor_accuracy'):>17}  {pair('self_care_accuracy'):>17}")


async def _main(args) -> int:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's per-message debug lines would bury the table
    logging.getLogger("rasa").setLevel(logging.WARNING)

    from bot.settings import Settings
    from bot.triage.service import TriageService

    if not MODEL.exists():
        print(f"error: {MODEL} is missing: run `make train` first", file=sys.stderr)
        return 2
    print(f"Loading {MODEL.name} and the language pipeline ...", file=sys.stderr)
    agent = Agent.load(str(MODEL))
    player = Player(Conversation(TriageService(), Settings.from_env().emergency_number), agent)
    header = (f"{'set':<28} {'n':>4}  {'emergency recall':>17}  {'false em. (traps)':>19}  {'level acc.':>17}  "
              f"{'doctor acc.':>17}  {'self-care acc.':>17}")
    current: Dict[str, Dict[str, Optional[float]]] = {}
    failures: List[Played] = []
    for part in args.part or BLIND_PARTS:
        for path in sorted((BLIND_DIR / part).glob("conversations*.yml")):
            played = [await player.play(script) for script in load_scripts(path)]
            current[f"{part}/{path.stem}"] = figures(score(played))
            failures += [p for p in played if p.level != p.script.level]
    if args.record_first_run and record_first_runs(current):
        return 2
    first = first_runs()
    print("Blind conversations, played turn by turn (first run -> now; '?': the set is older than this scorer):")
    print(header)
    print("-" * len(header))
    for name, now in current.items():
        print(line(name, now, first.get(name)))
    if args.show_failures:
        for p in failures:
            print(f"  {p.script.id}: expected {p.script.level}, got {p.level}")
            for asked, text in p.turns:
                print(f"    [{asked or 'opening'}] {text}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.rehearse", description=__doc__.splitlines()[0])
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--record-first-run", action="store_true",
                        help="record the first-run figures of the conversation sets not recorded yet (once per set)")
    parser.add_argument("--part", action="append", choices=BLIND_PARTS,
                        help="only this part (repeatable); frozen/ is for the final measurement only")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
