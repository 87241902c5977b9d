"""The two systems under load, started for real: ours as `make run` starts it (action server, Rasa
server, SQLite tracker store and SQLite transcripts), and the baseline, the plain assistant that
`rasa init` creates, with Rasa's SQL tracker store on SQLite and no action server.

Also: training times, cold start (process start to the first REST answer) and peak resident
memory per process, read from the kernel's high-water mark (VmHWM) just before stopping.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from bot.serve import Assistant
from bot.settings import PROJECT_ROOT, Settings

START_TIMEOUT_S = 180.0
TRAIN_TIMEOUT_S = 600.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers_rest(base_url: str, sender: str = "bench-cold-start") -> bool:
    """True once the REST channel gives a non-empty reply (not just an open port)."""
    request = urllib.request.Request(
        base_url + "/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": "hi"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status == 200 and bool(json.loads(response.read()))
    except (urllib.error.URLError, ConnectionError, OSError, ValueError):
        return False


def wait_for_rest(base_url: str, process: Optional[subprocess.Popen], deadline: float, log: Path) -> None:
    while not answers_rest(base_url):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited at start-up; see {log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base_url} did not answer within {START_TIMEOUT_S:.0f} s; see {log}")
        time.sleep(0.2)


def _descendants(pid: int) -> List[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                queue.extend(int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split())
        except OSError:
            pass
    return found


def peak_rss_mb(pid: int) -> Optional[float]:
    """Peak resident memory (VmHWM) of a process and its descendants, in MB; None if unreadable."""
    total_kb, seen = 0, False
    for each in _descendants(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
                    seen = True
        except OSError:
            continue
    return round(total_kb / 1024, 1) if seen else None


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its descendants, in seconds."""
    ticks = 0
    for each in _descendants(pid):
        try:
            # Fields after the command name, which is in parentheses and may hold spaces.
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def _timed_run(command: List[str], cwd: Path, env: Dict[str, str], log: Path) -> float:
    started = time.monotonic()
    with open(log, "wb") as out:
        code = subprocess.call(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=TRAIN_TIMEOUT_S)
    if code != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... failed ({code}); see {log}")
    return time.monotonic() - started


def _base_env(work: Path) -> Dict[str, str]:
    env = dict(os.environ)
    # A fresh cache: Rasa reuses trained components from its cache, which would time nothing.
    env.update(RASA_TELEMETRY_ENABLED="false", RASA_CACHE_DIRECTORY=str(work / "rasa-cache"),
               TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    return env


def train_ours(work: Path) -> tuple:
    """Trains our model from config.yml, domain.yml and data/ into work; returns (seconds, model path)."""
    out = work / "ours-model"
    command = [sys.executable, "-m", "bot.serve", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
               "--data", "data", "--out", str(out), "--fixed-model-name", "bench"]
    seconds = _timed_run(command, PROJECT_ROOT, _base_env(work / "ours-train"), work / "ours-train.log")
    return seconds, out / "bench.tar.gz"


def init_baseline(work: Path) -> tuple:
    """`rasa init` (scaffold and train the moodbot with the default config); returns (seconds, project dir)."""
    project = work / "baseline"
    project.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(project)]
    seconds = _timed_run(command, work, _base_env(work / "baseline-train"), work / "baseline-init.log")
    return seconds, project


class Running:
    """A started system: where to send messages and which processes to watch."""

    def __init__(self, name: str, urls: List[str], pids: Dict[str, int], cold_start_s: float):
        self.name, self.urls, self.pids, self.cold_start_s = name, urls, pids, cold_start_s

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids.values())

    def peak_rss(self) -> Dict[str, Optional[float]]:
        return {role: peak_rss_mb(pid) for role, pid in self.pids.items()}


@contextmanager
def ours(work: Path, model: Path) -> Iterator[Running]:
    """Our assistant as `make run` starts it, on free ports, with its data in work/ours-data."""
    data_dir = work / "ours-data"
    settings = Settings(rasa_port=free_port(), action_port=free_port(), data_dir=data_dir,
                        tracker_db=data_dir / "tracker.db", model_path=model)
    assistant = Assistant(settings, quiet=True)
    started = time.monotonic()
    try:
        assistant.start()  # migrates the transcript tables, starts both servers, waits for them
        url = assistant.settings.rasa_url
        wait_for_rest(url, assistant.processes["rasa"], started + START_TIMEOUT_S, assistant.log_dir / "rasa.log")
        cold = time.monotonic() - started
        pids = {role: process.pid for role, process in assistant.processes.items()}
        yield Running("ours", [url], pids, cold)
    finally:
        assistant.stop()


BASELINE_ENDPOINTS = """\
tracker_store:
  type: SQL
  dialect: sqlite
  db: {db}
"""


@contextmanager
def baseline(work: Path, project: Path) -> Iterator[Running]:
    """`rasa run` in the rasa-init project, Rasa's SQL tracker store on SQLite, no action server."""
    endpoints = work / "baseline-endpoints.yml"
    endpoints.write_text(BASELINE_ENDPOINTS.format(db=work / "baseline-tracker.db"))
    port = free_port()
    log = work / "baseline-rasa.log"
    command = [sys.executable, "-m", "rasa", "run", "--model", str(project / "models"), "--endpoints", str(endpoints),
               "--credentials", str(project / "credentials.yml"), "--interface", "127.0.0.1", "--port", str(port)]
    started = time.monotonic()
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=project, env=_base_env(work / "baseline-run"), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_rest(url, process, started + START_TIMEOUT_S, log)
        yield Running("baseline", [url], {"rasa": process.pid}, time.monotonic() - started)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
