"""Summarises `rasa test nlu` on the held-out set: ``python -m devtools.nlu_report RESULTS_DIR``.

Prints intent and entity precision, recall and F1 (macro and weighted) per label and
exits non-zero when the held-out intent F1 (weighted) is below the target.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

INTENT_F1_TARGET = 0.9


def _table(title: str, report: dict) -> list:
    lines = [title, f"  {'label':<22}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}"]
    for label, row in sorted(report.items()):
        if isinstance(row, dict) and "f1-score" in row:
            lines.append(
                f"  {label:<22}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1-score']:>7.3f}{row.get('support', 0):>9}"
            )
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.nlu_report", description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the --out folder of `rasa test nlu`")
    args = parser.parse_args(argv)
    intents = json.loads((args.results / "intent_report.json").read_text())
    lines = _table("Intents (held-out set)", intents)
    for entity_file in sorted(args.results.glob("*Extractor_report.json")) + sorted(args.results.glob("DIETClassifier_report.json")):
        lines += ["", f"Entities (held-out set, {entity_file.name.split('_')[0]})"]
        lines += _table("", json.loads(entity_file.read_text()))[1:]
    print("\n".join(lines))
    weighted = intents["weighted avg"]["f1-score"]
    print(f"\nintent F1 (weighted) {weighted:.3f}, target {INTENT_F1_TARGET}")
    if weighted < INTENT_F1_TARGET:
        print("below target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
