"""How the triage stands up to typos: the blind sets with misspellings added (seeded, so every run
adds the same ones), triaged with the spelling corrector and without it, side by side.

Each word of five letters or more is misspelt with the given probability by one edit of the kinds
people make on a phone (a letter dropped, doubled, swapped with the next, or a vowel for another).
The sets' labels stay true: a misspelt sign is still the sign.

    python -m devtools.typos [--rate 0.2] [--part tuning|frozen|all]
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import replace

from .evaluate import blind_sets, load_vignettes, percent, run, score, summary

_WORD = re.compile(r"[A-Za-z]{5,}")
_VOWELS = "aeiou"


def misspell(word: str, rng: random.Random) -> str:
    inner = range(1, len(word) - 1)  # the first and last letters stay: people get those right
    kind = rng.choice(("drop", "double", "swap", "vowel"))
    i = rng.choice(inner)
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i + 1 < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    vowels = [j for j in inner if word[j].lower() in _VOWELS]
    if not vowels:
        return word[:i] + word[i + 1 :]
    j = rng.choice(vowels)
    return word[:j] + rng.choice([v for v in _VOWELS if v != word[j].lower()]) + word[j + 1 :]


def with_typos(text: str, rate: float, seed: str) -> str:
    rng = random.Random(seed)
    return _WORD.sub(lambda m: misspell(m.group(), rng) if rng.random() < rate else m.group(), text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.typos", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.2, help="share of the words of 5+ letters misspelt (0.2)")
    parser.add_argument("--part", choices=("tuning", "frozen", "all"), default="tuning")
    args = parser.parse_args(argv)

    from bot.nlp.pipeline import ClinicalPipeline, shared_pipeline
    from bot.triage.service import TriageService

    print("Loading the language pipeline ...", file=sys.stderr)
    corrected = TriageService(shared_pipeline())
    plain = TriageService(ClinicalPipeline(signs=shared_pipeline().signs, spelling=False))
    parts = ("frozen", "tuning") if args.part == "all" else (args.part,)
    print(f"Blind sets with {args.rate:.0%} of the longer words misspelt: without the corrector -> with it")
    print(f"{'set':<28} {'n':>4}  {'emergency recall':>17}  {'false em.':>9}  {'doctor acc.':>15}  {'self-care acc.':>15}")
    for path in blind_sets():  # single messages: devtools.rehearse plays the conversations
        if path.parent.name in parts:
            vignettes = [replace(v, text=with_typos(v.text, args.rate, f"{v.id}:{args.rate}"))
                         for v in load_vignettes(path)]
            before, after = (summary(score(run(vignettes, service))) for service in (plain, corrected))

            def pair(key: str) -> str:
                return f"{percent(before[key])} -> {percent(after[key])}"

            print(f"{path.parent.name + '/' + path.stem:<28} {len(vignettes):>4}  {pair('emergency_recall'):>17}  "
                  f"{str(before['false_emergencies']) + ' -> ' + str(after['false_emergencies']):>9}  "
                  f"{pair('doctor_accuracy'):>15}  {pair('self_care_accuracy'):>15}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
