"""Benchmark of the triage path (language layer + engine) per message: ``make bench``.

Not a test: it reports the median and 95th percentile time per message after a
warm-up, over the vignette texts, and writes bench/results/engine.json.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

from devtools.evaluate import DEFAULT_VIGNETTES, blind_sets, load_vignettes

RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = 5


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _texts() -> list:
    """The vignettes and the blind tuning sets: short messages and narratives of several sentences."""
    texts = [v.text for v in load_vignettes(DEFAULT_VIGNETTES)]
    for path in blind_sets():
        if path.parent.name == "tuning":
            texts += [v.text for v in load_vignettes(path)]
    return texts


def _time(assess, texts, rounds, before_each=None) -> list:
    times = []
    for round_number in range(rounds):
        for text in texts:
            if before_each:
                before_each()
            t0 = time.perf_counter()
            assess(text)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"\rround {round_number + 1}/{rounds}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return times


def measure(rounds: int = ROUNDS) -> dict:
    """Times the triage path in this process; returns the figures (milliseconds per message).

    Both detectors, with the sentence encoder's cache emptied before every message (so each one
    runs the model, as a new message would), beside the patterns alone, as before the second one."""
    from bot.nlp.pipeline import ClinicalPipeline
    from bot.triage.service import TriageService

    rss_before = _rss_mb()
    started = time.perf_counter()
    service = TriageService()
    load_seconds = time.perf_counter() - started
    rss_added = _rss_mb() - rss_before
    patterns_only = TriageService(ClinicalPipeline(signs=None))
    texts = _texts()
    print(f"pipeline built in {load_seconds:.1f} s (+{rss_added:.0f} MB); {len(texts)} texts x {rounds} rounds",
          file=sys.stderr)

    for text in texts:  # warm-up
        service.assess(text)
        patterns_only.assess(text)
    encoder = service.pipeline.signs.encoder
    full = _time(service.assess, texts, rounds, encoder.clear_cache)
    patterns = _time(patterns_only.assess, texts, rounds)
    findings = [service.pipeline.findings(text) for text in texts]
    engine_only = []
    for found in findings * rounds:
        t0 = time.perf_counter()
        service.engine.decide(found)
        engine_only.append((time.perf_counter() - t0) * 1000)

    return {
        "messages": len(full),
        "pipeline_build_s": round(load_seconds, 2),
        "pipeline_rss_added_mb": round(rss_added, 1),
        "triage_ms_median": round(statistics.median(full), 3),
        "triage_ms_p95": round(percentile(full, 0.95), 3),
        "patterns_only_ms_median": round(statistics.median(patterns), 3),
        "patterns_only_ms_p95": round(percentile(patterns, 0.95), 3),
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
