"""Sampling profiles of running servers with py-spy (`python -m bench --profile`).

py-spy attaches to a process by pid (it needs ptrace permission) and writes collapsed stacks;
`summary` turns them into the functions with the most samples, on their own and with callees.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

RATE_HZ = 100


def py_spy() -> Optional[str]:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(pids: Dict[str, int], seconds: float, out_dir: Path) -> List[Tuple[str, subprocess.Popen, Path]]:
    """Starts one py-spy per process for `seconds`; returns (role, process, raw output path)."""
    binary = py_spy()
    if binary is None:
        print("  py-spy is not installed: no profile", file=sys.stderr)
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    started = []
    for role, pid in pids.items():
        raw = out_dir / f"{role}.txt"
        command = [binary, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(RATE_HZ),
                   "--format", "raw", "--nonblocking", "--output", str(raw)]
        log = open(out_dir / f"{role}.py-spy.log", "wb")
        started.append((role, subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), raw))
        log.close()
    return started


def finish(running: List[Tuple[str, subprocess.Popen, Path]], top: int = 12) -> Dict[str, str]:
    reports = {}
    for role, process, raw in running:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait()
        reports[role] = summary(raw, top) if raw.exists() else f"no profile (see {raw.with_suffix('.py-spy.log')})"
    return reports


def _frame_name(frame: str) -> str:
    # py-spy's raw frames look like "function (path/to/file.py:123)"; the line number is dropped.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(where).parts
    if "site-packages" in parts:
        where = "/".join(parts[parts.index("site-packages") + 1:])
    elif len(parts) > 3:
        where = "/".join(parts[-3:])
    return f"{name} ({where})"


def summary(raw: Path, top: int = 12) -> str:
    own, total, samples = Counter(), Counter(), 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame_name(f) for f in stack.split(";")]
        n = int(count)
        samples += n
        own[frames[-1]] += n
        for name in set(frames):
            total[name] += n
    if not samples:
        return "no samples"
    lines = [f"{samples} samples; own time:"]
    lines += [f"  {100 * n / samples:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append("with callees:")
    lines += [f"  {100 * n / samples:5.1f}%  {name}" for name, n in total.most_common(top)]
    return "\n".join(lines)
