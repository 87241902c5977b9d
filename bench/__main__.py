"""The load benchmark: ``python -m bench`` (``make bench``).

Trains both systems (timed), then for each system in turn starts it (cold start timed), holds
1, 10 and 50 concurrent scripted conversations over the REST channel, reads each process's peak
memory and stops it; only one system runs at a time so that they never share the cores. With
bench/cluster.py present (the two-instance set-up), it also loads the two instances at 10 and 50.
For ours it also runs the long-conversation point (bench/long_conversation.py: turn 5 against turn 60
of a 60-turn conversation, latency under load and CPU alone); `--only-long` runs that point alone.
Prints a table, writes bench/results/latest.json and bench/results/latency.png.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

from . import long_conversation, profile, report
from .load import BASELINE_SCRIPTS, OURS_SCRIPTS, load
from .systems import Running, baseline, init_baseline, ours, train_ours

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "current.tar.gz"
CLUSTER_LEVELS = (10, 50)


def phase(message: str, began: float) -> None:
    print(f"[{time.monotonic() - began:6.1f}s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows and no training: a smoke run")
    parser.add_argument("--only", choices=["ours", "baseline"], help="run one system only")
    parser.add_argument("--concurrency", default="1,10,50", help="comma-separated levels (default 1,10,50)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per point (default 5, quick 2)")
    parser.add_argument("--window", type=float, help="seconds measured per point (default 20, quick 5)")
    parser.add_argument("--skip-training", action="store_true",
                        help="do not time our training: load models/current.tar.gz (the baseline is still trained)")
    parser.add_argument("--baseline-project", type=Path,
                        help="reuse a trained `rasa init` project instead of training one (no baseline training time)")
    parser.add_argument("--cluster", choices=["auto", "yes", "no"], default="auto",
                        help="the two-instance set-up (bench/cluster.py): auto runs it when it and redis-server exist")
    parser.add_argument("--profile", action="store_true",
                        help="record py-spy profiles of ours during the c10 point, else the last level (into bench/results/profile/)")
    parser.add_argument("--long", action=argparse.BooleanOptionalAction, default=True,
                        help="the long-conversation point of ours (--quick: 20 turns, fewer repeats)")
    parser.add_argument("--long-turns", type=int,
                        help=f"turns of the long conversation (default {long_conversation.LONG_TURNS}, "
                             f"quick {long_conversation.QUICK_TURNS}; at least {long_conversation.MIN_TURNS})")
    parser.add_argument("--only-long", action="store_true",
                        help="only ours' long-conversation point: no engine timing, training, load points, baseline or cluster")
    parser.add_argument("--engine", action=argparse.BooleanOptionalAction, default=True,
                        help="time the triage engine per message first (about 2 minutes)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    if args.only_long:
        args.long, args.only, args.skip_training, args.cluster, args.concurrency = True, "ours", True, "no", ""
    args.long_turns = args.long_turns or (long_conversation.QUICK_TURNS if args.quick else long_conversation.LONG_TURNS)
    if args.long_turns < long_conversation.MIN_TURNS:
        parser.error(f"--long-turns must be at least {long_conversation.MIN_TURNS} (turns 3-7 against the last five)")
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 5.0)
    args.window = args.window if args.window is not None else (5.0 if args.quick else 20.0)
    return args


def keep_logs(work: Path, into: Path) -> None:
    """The servers' logs outlive the temporary folder, to explain any error the run reports."""
    shutil.rmtree(into, ignore_errors=True)
    for log in work.rglob("*.log"):
        target = into / log.relative_to(work)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(log, target)


def want_cluster(args: argparse.Namespace) -> bool:
    if args.cluster == "no" or args.only == "baseline":
        return False
    present = importlib.util.find_spec("bench.cluster") is not None
    if args.cluster == "yes":
        if not present:
            raise SystemExit("error: --cluster yes needs bench/cluster.py (the two-instance set-up)")
        return True
    postgres = shutil.which("postgres") or glob.glob("/usr/lib/postgresql/*/bin/postgres")
    return present and shutil.which("redis-server") is not None and bool(postgres)


def engine_figures(args: argparse.Namespace, began: float) -> Dict[str, object]:
    from .engine import measure

    phase("triage engine: time per message", began)
    figures = measure(rounds=3 if args.quick else 10)
    return {"triage_ms_median": figures["triage_ms_median"], "triage_ms_p95": figures["triage_ms_p95"],
            "triage_engine_only_ms_median": figures["engine_only_ms_median"]}


def load_points(system, label: str, scripts, args, figures: Dict[str, object], began: float,
                levels: List[int], profile_dir: Optional[Path] = None) -> Dict[str, str]:
    profiles: Dict[str, str] = {}
    for c in levels:
        phase(f"{label}: {c} concurrent conversation(s), {args.warmup:.0f} s warm-up + {args.window:.0f} s measured", began)
        spying = []
        if profile_dir is not None and c == (10 if 10 in levels else levels[-1]):
            spying = profile.start(system.pids, args.warmup + args.window, profile_dir)
        cpu_before = system.cpu_seconds()
        stats = load(system.urls, scripts, c, args.warmup, args.window, label=label)
        if system.pids and stats.turns_all:
            # CPU time the servers spent per answered message: the cost of a turn, which other
            # processes on the machine disturb far less than they disturb throughput.
            figures[f"{label}_cpu_ms_per_msg_c{c}"] = round(1000 * (system.cpu_seconds() - cpu_before) / stats.turns_all, 1)
        if spying:
            profiles = profile.finish(spying)
        figures.update(report.point_figures(label, stats.as_dict()))
        note = f"; first error: {stats.first_error}" if stats.first_error else ""
        phase(f"{label} c{c}: {stats.throughput} msg/s, p95 {stats.p95_ms} ms, errors {stats.errors}{note}", began)
    return profiles


def long_point(system: Running, args: argparse.Namespace, began: float) -> Dict[str, object]:
    """Ours' long conversation: under the load of BACKGROUND others for latency, then alone for CPU."""
    quick = args.quick
    repeats = long_conversation.QUICK_REPEATS if quick else long_conversation.REPEATS
    cpu_repeats = long_conversation.QUICK_CPU_REPEATS if quick else long_conversation.CPU_REPEATS
    phase(f"ours: long conversation, {repeats} x {args.long_turns} turns beside {long_conversation.BACKGROUND} others, "
          f"then {cpu_repeats} x alone for the CPU", began)
    result = long_conversation.measure(system, args.long_turns, repeats, cpu_repeats, warmup_s=args.warmup,
                                       say=lambda line: print(line, file=sys.stderr, flush=True))
    note = f"; first error: {result['first_error']}" if result["first_error"] else ""
    phase(f"ours long: p50 turn 5 {result['p50_ms_turn5']} ms, turn {args.long_turns} {result['p50_ms_turn_last']} ms "
          f"(x{result['latency_ratio']}); CPU {result['cpu_ms_per_msg_turn5']} -> {result['cpu_ms_per_msg_turn_last']} "
          f"ms/msg (x{result['cpu_ratio']}); errors {result['errors']}{note}", began)
    return result


def run_systems(args: argparse.Namespace, work: Path, figures: Dict[str, object], began: float) -> Dict[str, str]:
    """Trains, starts and loads each system in turn; fills figures; returns the profiles (with --profile)."""
    run_ours, run_baseline = args.only in (None, "ours"), args.only in (None, "baseline")
    profiles: Dict[str, str] = {}
    model = DEFAULT_MODEL
    if run_ours and not (args.quick or args.skip_training):
        phase("training ours (rasa train, fresh cache)", began)
        seconds, model = train_ours(work)
        figures["ours_training_s"] = round(seconds, 1)
        phase(f"ours trained in {figures['ours_training_s']} s", began)
    if run_ours and not model.exists():
        raise SystemExit(f"error: no model at {model}: run `make train`")
    project = args.baseline_project
    if run_baseline and project is None:
        phase("training the baseline (rasa init --no-prompt, default config)", began)
        seconds, project = init_baseline(work)
        figures["baseline_training_s"] = round(seconds, 1)
        phase(f"baseline trained in {figures['baseline_training_s']} s", began)

    if run_ours:
        phase("starting ours (action server + Rasa server, SQLite tracker + transcripts)", began)
        with ours(work, model) as system:
            figures["ours_cold_start_s"] = round(system.cold_start_s, 1)
            phase(f"ours answers after {figures['ours_cold_start_s']} s", began)
            profile_dir = RESULTS / "profile" if args.profile else None
            profiles = load_points(system, "ours", OURS_SCRIPTS, args, figures, began, args.levels, profile_dir)
            if args.long:
                figures["long_conversation"] = long_point(system, args, began)
            for role, mb in system.peak_rss().items():
                figures[f"ours_peak_rss_mb_{role}"] = mb
    if run_baseline:
        phase("starting the baseline (rasa run, SQL tracker store on SQLite)", began)
        with baseline(work, project) as system:
            figures["baseline_cold_start_s"] = round(system.cold_start_s, 1)
            phase(f"baseline answers after {figures['baseline_cold_start_s']} s", began)
            load_points(system, "baseline", BASELINE_SCRIPTS, args, figures, began, args.levels)
            for role, mb in system.peak_rss().items():
                figures[f"baseline_peak_rss_mb_{role}"] = mb
    if want_cluster(args):
        from .cluster import two_instance_cluster  # the two-instance set-up (Redis lock store + PostgreSQL)

        phase("starting the two-instance cluster", began)
        try:
            with two_instance_cluster(work / "cluster") as urls:
                system = Running("cluster", list(urls), {}, 0.0)
                levels = [c for c in args.levels if c in CLUSTER_LEVELS] or list(CLUSTER_LEVELS)
                load_points(system, "cluster", OURS_SCRIPTS, args, figures, began, levels)
        except Exception as error:  # noqa: BLE001 - optional part: the single-instance figures still count
            if args.cluster == "yes":
                raise
            figures["cluster_error"] = f"{type(error).__name__}: {error}"
            phase(f"the two-instance set-up failed, skipped: {figures['cluster_error']}", began)

    return profiles


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    figures: Dict[str, object] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "machine": f"{platform.machine()} {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "window_s": args.window,
        "warmup_s": args.warmup,
        "concurrency_levels": args.levels,
        "quick": args.quick,
    }
    if args.engine and not args.only_long:
        # First: the script check below builds the language pipeline, whose build this times.
        figures.update(engine_figures(args, began))
    if args.long and args.only != "baseline":
        # Before any server starts: an emergency in the script would measure another path.
        problem = long_conversation.script_problem(long_conversation.script(args.long_turns))
        if problem:
            raise SystemExit(f"error: the long conversation is not a non-emergency triage: {problem}")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        try:
            profiles = run_systems(args, work, figures, began)
        finally:
            keep_logs(work, RESULTS / "logs")

    report.add_ratios(figures, args.levels)
    figures["errors_total"] = sum(v for k, v in figures.items() if "_errors_c" in k)
    long = figures.get("long_conversation")
    if long:
        figures["errors_total"] += long["errors"] + long["background"]["errors"]
    figures["bench_duration_s"] = round(time.monotonic() - began, 1)
    report.write_json(figures, args.output)
    png = report.chart(figures, args.levels, args.output.with_name("latency.png"))
    print(report.table(figures, args.levels))
    for role, text in profiles.items():
        print(f"\nprofile of ours, {role} (py-spy):\n{text}")
    print(f"\nwritten to {args.output}" + (f" and {png}" if png else ""))
    phase("done", began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
