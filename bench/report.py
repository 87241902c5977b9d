"""The benchmark's outputs: a table on stdout, bench/results/latest.json (one flat key per figure,
except "long_conversation", the long-conversation point's figures as one object) and
bench/results/latency.png (latency against concurrency for each system)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional

SYSTEMS = ("ours", "baseline", "cluster")


def point_figures(system: str, stats: Dict[str, object]) -> Dict[str, object]:
    """The flat keys of one load point, e.g. ours_throughput_c10, ours_p95_ms_c10, ours_errors_c10."""
    c = stats["concurrency"]
    return {
        f"{system}_throughput_c{c}": stats["throughput"],
        f"{system}_p50_ms_c{c}": stats["p50_ms"],
        f"{system}_p95_ms_c{c}": stats["p95_ms"],
        f"{system}_p99_ms_c{c}": stats["p99_ms"],
        f"{system}_turns_c{c}": stats["turns"],
        f"{system}_errors_c{c}": stats["errors"],
    }


def add_ratios(figures: Dict[str, object], levels: Iterable[int]) -> None:
    """ours / baseline: a throughput ratio >= 1 and a p95 ratio <= 1 meet the target."""
    for c in levels:
        ours_tp, base_tp = figures.get(f"ours_throughput_c{c}"), figures.get(f"baseline_throughput_c{c}")
        if ours_tp is not None and base_tp:
            figures[f"throughput_ratio_c{c}"] = round(ours_tp / base_tp, 3)
        ours_p95, base_p95 = figures.get(f"ours_p95_ms_c{c}"), figures.get(f"baseline_p95_ms_c{c}")
        if ours_p95 is not None and base_p95:
            figures[f"p95_ratio_c{c}"] = round(ours_p95 / base_p95, 3)


def _cell(value: Optional[object]) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def table(figures: Dict[str, object], levels: Iterable[int]) -> str:
    levels = list(levels)
    lines = [f"{'load point':<12}{'system':<10}{'msg/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
             f"{'tp ratio':>10}{'p95 ratio':>10}{'CPU ms/msg':>12}"]
    for c in levels:
        for system in SYSTEMS:
            if f"{system}_throughput_c{c}" not in figures:
                continue
            ratios = ("", "")
            if system == "ours":
                ratios = (_cell(figures.get(f"throughput_ratio_c{c}")), _cell(figures.get(f"p95_ratio_c{c}")))
            lines.append(
                f"{'c' + str(c):<12}{system:<10}"
                + "".join(f"{_cell(figures.get(f'{system}_{k}_c{c}')):>9}" for k in ("throughput", "p50_ms", "p95_ms", "p99_ms"))
                + f"{_cell(figures.get(f'{system}_errors_c{c}')):>8}{ratios[0]:>10}{ratios[1]:>10}"
                + f"{_cell(figures.get(f'{system}_cpu_ms_per_msg_c{c}')):>12}"
            )
    lines = lines + [""] if len(lines) > 1 else []  # no load point (--only-long): no empty table
    singles = [
        ("cold start, ours (s)", "ours_cold_start_s"), ("cold start, baseline (s)", "baseline_cold_start_s"),
        ("training, ours (s)", "ours_training_s"), ("training, baseline (s)", "baseline_training_s"),
        ("peak RSS ours rasa (MB)", "ours_peak_rss_mb_rasa"), ("peak RSS ours actions (MB)", "ours_peak_rss_mb_actions"),
        ("peak RSS baseline rasa (MB)", "baseline_peak_rss_mb_rasa"),
        ("triage ms median", "triage_ms_median"), ("triage ms p95", "triage_ms_p95"),
    ]
    for label, key in singles:
        if key in figures:
            lines.append(f"{label:<30}{_cell(figures[key]):>10}")
    if "long_conversation" in figures:
        lines += ["", *long_table(figures["long_conversation"])]
    return "\n".join(lines)


def long_table(long: Dict[str, object]) -> List[str]:
    """The long-conversation point: turn 5 (turns 3-7) against the last turn (the last five)."""
    last, bg = long["turns"], long["background"]
    lines = [f"long conversation, ours: {last} turns; latency {long['repeats']} x beside {bg['conversations']} other "
             f"conversations, CPU {long['cpu_repeats']} x alone",
             f"{'':<28}{'turn 5':>10}{'turn ' + str(last):>10}{'ratio':>8}{'target':>8}",
             f"{'p50 ms, under load':<28}{_cell(long['p50_ms_turn5']):>10}{_cell(long['p50_ms_turn_last']):>10}"
             f"{_cell(long['latency_ratio']):>8}{'<= ' + str(long['latency_ratio_target']):>8}",
             f"{'p50 ms, alone':<28}{_cell(long['p50_ms_alone_turn5']):>10}{_cell(long['p50_ms_alone_turn_last']):>10}"
             f"{_cell(long['latency_alone_ratio']):>8}",
             f"{'CPU ms/msg, alone':<28}{_cell(long['cpu_ms_per_msg_turn5']):>10}{_cell(long['cpu_ms_per_msg_turn_last']):>10}"
             f"{_cell(long['cpu_ratio']):>8}",
             f"{'  of which until the reply':<28}{_cell(long['cpu_ms_to_reply_turn5']):>10}"
             f"{_cell(long['cpu_ms_to_reply_turn_last']):>10}{_cell(long['cpu_to_reply_ratio']):>8}",
             f"messages {long['messages']}, errors {long['errors']}; background {bg['messages']} messages at "
             f"{_cell(bg['msg_per_s'])} msg/s, p50 {_cell(bg['p50_ms'])} ms, errors {bg['errors']}"]
    if long.get("first_error") or bg.get("first_error"):
        lines.append(f"first error: {long.get('first_error') or bg.get('first_error')}")
    return lines


def write_json(figures: Dict[str, object], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


def chart(figures: Dict[str, object], levels: Iterable[int], path: Path) -> Optional[Path]:
    """p50 (dashed) and p95 (solid) latency per turn against concurrency, one colour per system."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    levels = sorted(levels)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = False
    for system, colour in zip(SYSTEMS, ("tab:blue", "tab:orange", "tab:green")):
        xs = [c for c in levels if f"{system}_p95_ms_c{c}" in figures]
        if not xs:
            continue
        drawn = True
        ax.plot(xs, [figures[f"{system}_p95_ms_c{c}"] for c in xs], "o-", color=colour, label=f"{system} p95")
        ax.plot(xs, [figures[f"{system}_p50_ms_c{c}"] for c in xs], "o--", color=colour, alpha=0.7, label=f"{system} p50")
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xscale("log")
    ax.set_yscale("log")  # N = 1 and N = 50 differ a hundredfold
    ax.set_xticks(levels)
    ax.set_xticklabels([str(c) for c in levels])
    ax.set_xlabel("concurrent conversations")
    ax.set_ylabel("latency per turn (ms)")
    ax.set_title("REST turn latency against concurrency")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
