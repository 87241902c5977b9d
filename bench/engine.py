"""Benchmark of the triage path (language layer + engine) per message: ``make bench``.

Not a test: it reports the median and 95th percentile time per message after a
warm-up, over the vignette texts, and writes bench/results/engine.json.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from bot.triage.evaluate import DEFAULT_VIGNETTES, load_vignettes

RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = 20


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(rounds: int = ROUNDS) -> dict:
    """Times the triage path in this process; returns the figures (milliseconds per message)."""
    from bot.triage.service import TriageService

    started = time.perf_counter()
    service = TriageService()
    load_seconds = time.perf_counter() - started
    texts = [v.text for v in load_vignettes(DEFAULT_VIGNETTES)]
    print(f"pipeline built in {load_seconds:.1f} s; {len(texts)} texts x {rounds} rounds", file=sys.stderr)

    for text in texts:  # warm-up
        service.assess(text)
    full, engine_only = [], []
    findings = [service.pipeline.findings(text) for text in texts]
    for round_number in range(rounds):
        for text in texts:
            t0 = time.perf_counter()
            service.assess(text)
            full.append((time.perf_counter() - t0) * 1000)
        for found in findings:
            t0 = time.perf_counter()
            service.engine.decide(found)
            engine_only.append((time.perf_counter() - t0) * 1000)
        print(f"\rround {round_number + 1}/{rounds}", end="", file=sys.stderr)
    print(file=sys.stderr)

    return {
        "messages": len(full),
        "pipeline_build_s": round(load_seconds, 2),
        "triage_ms_median": round(statistics.median(full), 3),
        "triage_ms_p95": round(percentile(full, 0.95), 3),
        "engine_only_ms_median": round(statistics.median(engine_only), 4),
        "engine_only_ms_p95": round(percentile(engine_only, 0.95), 4),
        "mean_chars_per_message": round(statistics.mean(len(t) for t in texts), 1),
    }


def main() -> int:
    figures = measure()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"{'figure':<26}{'value':>12}")
    for key, value in figures.items():
        print(f"{key:<26}{value:>12}")
    print(f"written to {RESULTS / 'engine.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
