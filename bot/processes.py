"""Named child processes, each in its own session with its log file: what `make run`
(bot.serve.Assistant) and the local several-server set-up (bot.cluster) both start and stop."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List, Optional

from .settings import PROJECT_ROOT

STARTUP_TIMEOUT_S = 180.0


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


class ChildProcesses:
    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.processes: Dict[str, subprocess.Popen] = {}

    def spawn(self, name: str, command: List[str], env: Dict[str, str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only us; we stop the children ourselves
            )

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def wait_until_up(
        self, checks: Dict[str, str], timeout_s: float = STARTUP_TIMEOUT_S, on_up: Optional[Callable[[str], None]] = None
    ) -> None:
        """Waits until each named process answers 200 at its URL; raises when one exits or time runs out."""
        deadline, waiting = time.monotonic() + timeout_s, set(checks)
        while waiting:
            for name in sorted(waiting):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited at start-up; see {self.log_dir / (name + '.log')}:\n{self.tail(name)}")
                if answers(checks[name]):
                    waiting.discard(name)
                    if on_up:
                        on_up(name)
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"{', '.join(sorted(waiting))} did not answer within {timeout_s:.0f} s")
            time.sleep(0.5)

    def stop(self, name: str, timeout_s: float = 15) -> None:
        """SIGTERM, as a deployment stops a process; SIGKILL if it does not go in time."""
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for process in self.processes.values():  # all at once, then wait for each
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name in list(self.processes):
            self.stop(name)
