"""Speed of the sentence encoder (bot/nlp/embedding.py): ``python -m bench.embedding``.

Prints the load time (hash check + build), the resident memory it added, and p50/p95 per
encode() call for batches of 1, 3 and 6 short clauses (3-20 words), after a warm-up and with
the LRU cache off, so that every call runs the model. The CPU time of each call is shown beside
its wall-clock time: on a busy machine the latter measures the other processes too.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time
from typing import List, Optional

CLAUSES = [
    "my leg is numb",
    "I can't feel my left foot",
    "the numbness started two days ago",
    "it gets worse when I walk",
    "I have lost control of my bladder",
    "there is tingling in both feet and it spreads up to my knees",
    "no back pain",
    "I had a fall last week and since then my right thigh feels dead",
    "my mother had multiple sclerosis",
    "sometimes my toes go cold and then I cannot move them for a few minutes",
    "I am diabetic",
    "the pins and needles come and go at night",
    "I can't lift the front of my foot and I keep tripping over things on the stairs",
    "numb around my groin and bottom",
    "it feels like my leg is asleep all the time",
    "weakness in both legs since this morning",
    "I am not sure whether it is getting better",
    "the pain shoots from my lower back down the back of my leg to the ankle",
    "no fever",
    "I have been sitting a lot at work and my outer thigh burns",
]


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: List[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.embedding", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls per batch size")
    parser.add_argument("--backend", choices=["onnxruntime", "onnxruntime-int8", "numpy"], default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)

    import numpy  # noqa: F401 - imported before the baseline, as the bot has it already

    # Wall-clock figures mean little on a busy machine: say how busy it is, and give CPU time too.
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPU(s)")

    before = rss_mb()
    began = time.perf_counter()
    from bot.nlp.embedding import SentenceEncoder

    encoder = SentenceEncoder(backend=args.backend, threads=args.threads, cache_size=0)
    load = time.perf_counter() - began
    loaded = rss_mb()
    print(f"backend {encoder.backend}; load {load:.2f} s (import, hash check, build); "
          f"RSS +{loaded - before:.0f} MB after load")

    rng = random.Random(7)
    for size in (1, 3, 6):
        batches = [rng.sample(CLAUSES, size) for _ in range(args.calls)]
        for batch in batches[:30]:
            encoder.encode(batch)
        times, cpu = [], []
        for batch in batches:
            start, start_cpu = time.perf_counter(), time.process_time()
            encoder.encode(batch)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        print(f"{size} clause(s): p50 {statistics.median(times):.2f} ms, p95 {percentile(times, 0.95):.2f} ms, "
              f"max {max(times):.2f} ms; CPU time p50 {statistics.median(cpu):.2f} ms, "
              f"p95 {percentile(cpu, 0.95):.2f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RSS +{rss_mb() - before:.0f} MB after the calls (peak RSS of the process {peak:.0f} MB)")


if __name__ == "__main__":
    main()
