"""Named child processes, each in its own session with its log file: what `make run`
(bot.serve.Assistant) and the local several-server set-up (devtools.cluster) both start and stop;
and the Supervisor that `make run` uses to start a dead one again."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .settings import PROJECT_ROOT

STARTUP_TIMEOUT_S = 180.0
PRIVATE_UMASK = 0o077


def keep_files_private(data_dir: Path) -> None:
    """Transcripts, the tracker, spools and logs hold health data: what this process and its children
    create is its user's only (files 0600, folders 0700), and what an older version left readable in
    the data folder is made so too."""
    os.umask(PRIVATE_UMASK)
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return
    for path in [data_dir, *data_dir.rglob("*")]:
        if path.is_symlink() or path.stat().st_uid != os.getuid():
            continue
        path.chmod(0o700 if path.is_dir() else path.stat().st_mode & 0o700 or 0o600)


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
        self.launches: Dict[str, Tuple[List[str], Dict[str, str]]] = {}  # what respawn starts again

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def spawn(self, name: str, command: List[str], env: Dict[str, str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.launches[name] = (command, env)
        with open(self.log_path(name), "ab") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only us; we stop the children ourselves
            )

    def respawn(self, name: str) -> None:
        """The same command and environment as the last spawn of this name."""
        self.spawn(name, *self.launches[name])

    def kill_group(self, name: str) -> None:
        """SIGKILL to what is left of a child's process group (its own children)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.processes[name].pid, signal.SIGKILL)

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


# Supervision (`make run` only, see bot.serve.run_forever): a child that dies is started again with the
# same command, after a back-off that doubles with each quick death, so a child that cannot start does
# not spin. Assistant used by the tests has none: tests/e2e/test_faults.py needs a killed child to stay dead.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 60.0  # up this long, a child's next death counts as the first again
STATUS_FILE = "supervisor.json"  # in the data folder; read by bot/channels/health.py


def backoff_delay(deaths_in_a_row: int, first_s: float = BACKOFF_FIRST_S, cap_s: float = BACKOFF_MAX_S) -> float:
    """Wait before the restart after the n-th quick death in a row: 1, 2, 4 ... s, at most cap_s."""
    return min(cap_s, first_s * 2 ** max(0, deaths_in_a_row - 1))


def exit_description(code: int) -> str:
    if code < 0:  # Popen's way of saying "killed by a signal"
        try:
            return f"{code} ({signal.Signals(-code).name})"
        except ValueError:
            pass
    return str(code)


def write_json_atomically(path: Path, data: Any) -> None:
    """Readers see the old file or the new one, never half of one."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@dataclass
class ChildState:
    started_at: float  # clock time of the last spawn
    restarts: int = 0
    deaths_in_a_row: int = 0
    last_exit_code: Optional[int] = None
    last_restart_at: Optional[str] = None  # UTC, ISO 8601
    restart_due: Optional[float] = None  # set while the child is down, waiting for its back-off


class Supervisor:
    """Restarts the dead children of a ChildProcesses; ``step()`` never blocks, the caller loops."""

    def __init__(
        self, children: ChildProcesses, status_path: Path, clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    ):
        self.children, self.status_path, self.clock, self.log = children, Path(status_path), clock, log
        self.states = {name: ChildState(started_at=clock()) for name in children.processes}
        self.write_status()

    def step(self) -> None:
        changed = False
        for name, state in self.states.items():
            now = self.clock()
            if state.restart_due is None:
                code = self.children.processes[name].poll()
                if code is not None:
                    self._died(name, state, code, now)
                    changed = True
            elif now >= state.restart_due:
                self.children.respawn(name)
                state.restarts, state.restart_due, state.started_at = state.restarts + 1, None, now
                state.last_restart_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
                self.log(f"supervisor: {name} started again (pid {self.children.processes[name].pid}, restart {state.restarts})")
                changed = True
        if changed:
            self.write_status()

    def _died(self, name: str, state: ChildState, code: int, now: float) -> None:
        self.children.kill_group(name)  # what the child left behind (it led its own group) would hold its port
        if now - state.started_at >= STABLE_AFTER_S:
            state.deaths_in_a_row = 0
        state.deaths_in_a_row += 1
        state.last_exit_code = code
        delay = backoff_delay(state.deaths_in_a_row)
        state.restart_due = now + delay
        self.log(f"supervisor: {name} exited with code {exit_description(code)}; see {self.children.log_path(name)}; "
                 f"restarting in {delay:g} s")

    def status(self) -> Dict[str, Any]:
        return {
            "supervisor_pid": os.getpid(),
            "children": {
                name: {
                    "pid": None if state.restart_due is not None else self.children.processes[name].pid,
                    "state": "restarting" if state.restart_due is not None else "running",
                    "restarts": state.restarts, "last_exit_code": state.last_exit_code,
                    "last_restart_at": state.last_restart_at,
                }
                for name, state in self.states.items()
            },
        }

    def write_status(self) -> None:
        self.status_path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.status_path, self.status())

    def remove_status(self) -> None:
        """On a clean stop: a file left behind would describe processes that no longer run."""
        with contextlib.suppress(FileNotFoundError):
            self.status_path.unlink()
