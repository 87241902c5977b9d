"""Splits a new blind set into its frozen and tuning parts: ``python -m devtools.split_blind FILE NAME``.

FILE is a set as its writer delivered it (vignettes or conversations, written from the documents
and the style brief only); NAME the stem both parts get (``short_messages_2`` gives
tests/data/blind/frozen/short_messages_2.yml and tuning/short_messages_2.yml). A case goes to
``frozen/`` when the SHA-256 of its id is even, as the first sets were split, so the split depends
on nothing anyone could tune. Refuses to overwrite a part: a set is split once, then its first
run is recorded (``devtools.evaluate --blind --record-first-run``, ``devtools.rehearse
--record-first-run``) before anyone reads the tuning part.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Dict, List

import yaml

from .evaluate import BLIND_DIR

HEADER = "# Blind set written only from the four source documents and a style brief (no code, no patterns seen).\n"
PART_NOTE = {
    "frozen": "# frozen: never used for tuning; measured before any tuning and again only at the end.\n",
    "tuning": "# tuning: may be read when improving the language layer (its first-run figure is kept in first_run.json).\n",
}


def part_of(case_id: str) -> str:
    return "frozen" if int(hashlib.sha256(case_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "tuning"


def split(data: Dict, key: str) -> Dict[str, List[Dict]]:
    parts: Dict[str, List[Dict]] = {"frozen": [], "tuning": []}
    ids = [case["id"] for case in data[key]]
    if len(set(ids)) != len(ids):
        raise SystemExit("error: the set has duplicate ids")
    for case in data[key]:
        parts[part_of(case["id"])].append(case)
    return parts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.split_blind", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("name", help="the stem of both parts, e.g. short_messages_2")
    args = parser.parse_args(argv)
    data = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    key = "conversations" if "conversations" in data else "vignettes"
    targets = {part: BLIND_DIR / part / f"{args.name}.yml" for part in PART_NOTE}
    existing = [str(path) for path in targets.values() if path.exists()]
    if existing:
        print(f"error: {', '.join(existing)} exist; a set is split once", file=sys.stderr)
        return 2
    for part, cases in split(data, key).items():
        body = yaml.safe_dump({"version": 1, key: cases}, sort_keys=False, allow_unicode=True, width=10_000)
        targets[part].write_text(HEADER + PART_NOTE[part] + body, encoding="utf-8")
        print(f"{targets[part]}: {len(cases)} {key}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
