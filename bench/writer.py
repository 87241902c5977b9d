"""Cost of the transcript writer per record: ``python -m bench.writer``.

The writer drains the spool into the transcript database in a thread of the Rasa server, so the
CPU it spends in Python holds the event loop back under load. This times ``TranscriptWriter.flush``
alone on a fresh SQLite database with the project's migrations: batches of three conversations'
turns (a user message and a bot reply with its triage decision each), as at N = 50, and prints
the CPU (this thread) and wall-clock milliseconds per record.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from bot.store.migrate import upgrade_to_head
from bot.store.models import BOT, USER
from bot.store.records import TranscriptRecord, TriageRecord
from bot.store.writer import TranscriptWriter

T0 = 1_700_000_000.0
DECISION = TriageRecord(
    level="doctor", rules=["doctor.persistent"],
    reasons=[{"rule": "doctor.persistent", "level": "doctor", "source": "000_basics.txt",
              "quote": "Numbness is persistent or doesn't improve after changing positions."}],
    missing=["onset", "pattern"], rulebook_version="bench",
    findings=[{"concept": "calf", "text": "calf", "status": "present", "detected_by": ["patterns"]}],
    summary=[{"question": "location", "concept": "calf", "text": "left calf"}],
)


def batch(number: int, conversations: int = 3, senders: int = 40) -> List[TranscriptRecord]:
    records = []
    for k in range(conversations):
        sender, at = f"bench-{(number * conversations + k) % senders}", T0 + number * 10 + k
        common = dict(sender=sender, session_key=f"{T0:.6f}", session_started_at=T0, channel="rest")
        records.append(TranscriptRecord(key=f"{sender}-{number}-u", at=at, speaker=USER, text="my left calf is numb",
                                        intent="describe_symptoms", confidence=0.9, **common))
        records.append(TranscriptRecord(key=f"{sender}-{number}-b", at=at + 0.5, speaker=BOT,
                                        text="How long has it been numb?", triage=DECISION, **common))
    return records


def measure(batches: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-writer-") as folder:
        url = f"sqlite:///{folder}/transcripts.db"
        upgrade_to_head(url)
        writer = TranscriptWriter(url, Path(folder) / "spool.jsonl")
        cpu = wall = 0.0
        records = 0
        try:
            for number in range(batches):
                written = batch(number)
                writer.keep(written)
                cpu0, wall0 = time.thread_time(), time.perf_counter()
                writer.flush()
                cpu += time.thread_time() - cpu0
                wall += time.perf_counter() - wall0
                records += len(written)
        finally:
            writer.close()
    return {"records": records, "cpu_ms_per_record": round(cpu / records * 1000, 3),
            "wall_ms_per_record": round(wall / records * 1000, 3)}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.writer", description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    figures = measure(parser.parse_args(argv).batches)
    for name, value in figures.items():
        print(f"{name:<22} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
