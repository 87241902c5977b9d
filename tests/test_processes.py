"""The supervisor `make run` uses (bot.processes.Supervisor): back-off schedule, restarts of real
child processes (tiny Python ones, no Rasa) under a fake clock, and the status file the health
endpoint reads."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from bot.processes import STABLE_AFTER_S, STATUS_FILE, ChildProcesses, Supervisor, backoff_delay

EXITS_3 = [sys.executable, "-c", "import sys; sys.exit(3)"]
SLEEPS = [sys.executable, "-c", "import time; time.sleep(60)"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def children(tmp_path):
    children = ChildProcesses(tmp_path / "logs")
    yield children
    children.stop_all()


def supervised(children, tmp_path, **commands):
    for name, command in commands.items():
        children.spawn(name, command, dict(os.environ))
    clock, lines = Clock(), []
    return Supervisor(children, tmp_path / STATUS_FILE, clock=clock, log=lines.append), clock, lines


def status(tmp_path):
    return json.loads((tmp_path / STATUS_FILE).read_text())


def wait_dead(children, name):
    children.processes[name].wait(timeout=30)


def test_backoff_doubles_from_one_second_and_stops_at_thirty():
    assert [backoff_delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_child_that_keeps_dying_is_restarted_after_1_2_4_seconds(children, tmp_path):
    supervisor, clock, lines = supervised(children, tmp_path, actions=EXITS_3)
    pids = [children.processes["actions"].pid]
    for restart, delay in enumerate([1, 2, 4], start=1):
        wait_dead(children, "actions")
        supervisor.step()  # notices the death
        child = status(tmp_path)["children"]["actions"]
        assert (child["state"], child["pid"], child["last_exit_code"], child["restarts"]) == ("restarting", None, 3, restart - 1)
        clock.now += delay - 0.1
        supervisor.step()
        assert children.processes["actions"].pid == pids[-1]  # not before its back-off
        clock.now += 0.2
        supervisor.step()
        pids.append(children.processes["actions"].pid)
        assert pids[-1] != pids[-2]
        child = status(tmp_path)["children"]["actions"]
        assert (child["state"], child["pid"], child["restarts"]) == ("running", pids[-1], restart)
        assert child["last_restart_at"]
    log = str(tmp_path / "logs" / "actions.log")
    died = [line for line in lines if "exited" in line]
    assert len(died) == 3 and all("code 3" in line and log in line for line in died), lines
    assert [line.rsplit("restarting in ", 1)[1] for line in died] == ["1 s", "2 s", "4 s"]


def test_the_backoff_starts_again_after_a_child_stayed_up(children, tmp_path):
    supervisor, clock, lines = supervised(children, tmp_path, rasa=SLEEPS)
    supervisor.states["rasa"].deaths_in_a_row = 5  # as if it had been failing before this start
    clock.now += STABLE_AFTER_S + 1
    os.kill(children.processes["rasa"].pid, signal.SIGKILL)
    wait_dead(children, "rasa")
    supervisor.step()
    assert lines[-1].endswith("restarting in 1 s") and "-9 (SIGKILL)" in lines[-1], lines
    assert status(tmp_path)["children"]["rasa"]["last_exit_code"] == -9


def test_a_quick_death_after_a_restart_keeps_doubling(children, tmp_path):
    supervisor, clock, lines = supervised(children, tmp_path, rasa=SLEEPS)
    supervisor.states["rasa"].deaths_in_a_row = 2
    clock.now += STABLE_AFTER_S - 1  # not up long enough to count as stable
    os.kill(children.processes["rasa"].pid, signal.SIGKILL)
    wait_dead(children, "rasa")
    supervisor.step()
    assert lines[-1].endswith("restarting in 4 s"), lines


def test_only_the_dead_child_is_touched(children, tmp_path):
    supervisor, clock, _ = supervised(children, tmp_path, rasa=SLEEPS, actions=EXITS_3)
    rasa_pid = children.processes["rasa"].pid
    wait_dead(children, "actions")
    supervisor.step()
    clock.now += 1.5
    supervisor.step()
    report = status(tmp_path)
    assert report["supervisor_pid"] == os.getpid()
    assert report["children"]["rasa"] == {"pid": rasa_pid, "state": "running", "restarts": 0,
                                          "last_exit_code": None, "last_restart_at": None}
    assert report["children"]["actions"]["restarts"] == 1
    assert children.processes["rasa"].poll() is None


def test_what_a_dead_child_left_running_is_killed_too(children, tmp_path):
    # A child that started its own child and died: the orphan would keep the port the restart needs.
    leaves_orphan = [sys.executable, "-c", (
        "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(p.pid, flush=True); sys.exit(1)")]
    supervisor, _, _ = supervised(children, tmp_path, web=leaves_orphan)
    wait_dead(children, "web")
    orphan = int(children.tail("web", 1))
    try:
        os.kill(orphan, 0)  # still there
        supervisor.step()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc_state(orphan) not in ("gone", "Z"):
            time.sleep(0.05)
        assert proc_state(orphan) in ("gone", "Z")  # killed (a zombie until init reaps it)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(orphan, signal.SIGKILL)


def proc_state(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def test_the_status_file_is_replaced_whole_and_removed_on_a_clean_stop(children, tmp_path):
    supervisor, clock, _ = supervised(children, tmp_path, actions=EXITS_3)
    wait_dead(children, "actions")
    supervisor.step()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", STATUS_FILE]  # no temp file left
    supervisor.remove_status()
    assert not (tmp_path / STATUS_FILE).exists()
    supervisor.remove_status()  # twice is fine


def test_the_health_endpoint_reports_the_supervisor_only_while_one_runs(children, tmp_path):
    from bot.channels.health import _supervisor
    from bot.settings import Settings

    settings = Settings(data_dir=tmp_path)
    assert _supervisor(settings) is None  # no file: Rasa started some other way
    supervisor, clock, _ = supervised(children, tmp_path, rasa=SLEEPS, actions=EXITS_3)
    part = _supervisor(settings)
    assert part["ok"] is True and part["children"]["actions"]["restarts"] == 0, part
    wait_dead(children, "actions")
    supervisor.step()
    part = _supervisor(settings)
    assert part["ok"] is False and part["children"]["actions"]["state"] == "restarting", part
    clock.now += 1.5
    supervisor.step()
    part = _supervisor(settings)
    assert part["ok"] is True and part["children"]["actions"]["restarts"] == 1, part
    assert "pid" not in part["children"]["actions"]  # counts and states only
    # A file left by a supervisor that was killed describes nothing that runs.
    left = status(tmp_path)
    dead = ChildProcesses(tmp_path / "logs")
    dead.spawn("gone", [sys.executable, "-c", "pass"], dict(os.environ))
    dead.processes["gone"].wait()
    left["supervisor_pid"] = dead.processes["gone"].pid
    (tmp_path / STATUS_FILE).write_text(json.dumps(left))
    assert _supervisor(settings) is None
