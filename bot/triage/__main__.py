"""Command line: ``python -m bot.triage [--json] [TEXT]``.

With TEXT, triages it. Without, reads one text per line from standard input and
answers each, loading the language pipeline once.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from .engine import Decision

LEVEL_WORDS = {
    "emergency": "EMERGENCY: seek immediate medical care / call the emergency number now",
    "doctor": "SEE A DOCTOR: contact a healthcare provider",
    "self_care": "SELF-CARE: usually harmless; see the advice and when to get help",
    "undetermined": "UNDETERMINED: not enough information yet",
}


def summary(decision: Decision) -> str:
    lines = [LEVEL_WORDS[decision.level]]
    for reason in decision.reasons():
        lines.append(f"  - {reason['rule']}: {reason['explanation']}")
        lines.append(f"    source {reason['source']}: \"{reason['quote']}\"")
    found = [f"{f.concept} ({f.status})" for f in decision.findings]
    if found:
        lines.append("  findings: " + ", ".join(found))
    if decision.missing:
        lines.append("  still to ask: " + ", ".join(decision.missing))
    return "\n".join(lines)


def render(decision: Decision, as_json: bool) -> str:
    return json.dumps(decision.as_dict(), ensure_ascii=False) if as_json else summary(decision)


def main(argv=None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.triage", description="Triage a leg-numbness description.")
    parser.add_argument("text", nargs="*", help="the text to triage; omit to read one text per line from stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON object per text")
    args = parser.parse_args(argv)

    from .service import TriageService  # loads spaCy: only once we know the arguments are fine

    service = TriageService()
    if args.text:
        print(render(service.assess(" ".join(args.text)), args.json), file=stdout)
        return 0
    if stdin.isatty():
        print("Type a description per line; Ctrl-D to end.", file=sys.stderr)
    for line in stdin:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        print(render(service.assess(line), args.json), file=stdout, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
