"""End to end: `make run` (``python -m bot.serve`` as a real subprocess) starts again what a
``kill -9`` took away: the Rasa server, the action server and the staff app, each in turn.

One `bot.serve` for the module; the tests run in file order. The recovery times go into FIGURES.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.processes import STATUS_FILE
from bot.settings import PROJECT_ROOT

from ..store.conftest import TEST_PSEUDONYM_KEY
from ..store.databases import free_port
from .support import FIGURES, MODEL, e2e_settings, get, new_sender, post, stored_user_texts

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")

START_TIMEOUT_S = 240
# Measured here, 5 runs: the Rasa server answered again 14-27 s after its kill -9 (0.5 s to notice,
# 1 s back-off, ~6 s of imports, ~11 s of model load, 7 of them skops importing every scikit-learn
# estimator); the action server 5.4-6.4 s; the staff app 1.6-2.0 s. The bounds leave 3x or more for a
# slower or busier machine: without a restart nothing answers at all.
RASA_RECOVERY_BOUND_S = 90
ACTIONS_RECOVERY_BOUND_S = 45
STAFF_RECOVERY_BOUND_S = 30
# Variables of the caller's environment that would point the servers elsewhere.
NOT_PASSED = ("DATABASE_URL", "TRACKER_DB", "TRACKER_STORE_URL", "LOCK_STORE_URL", "INSTANCE_NAME", "APP_ENV",
              "RASA_API_TOKEN", "TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_BOT_USERNAME", "SLACK_TOKEN",
              "SLACK_SIGNING_SECRET", "ALLOWED_ORIGINS")


class Served:
    def __init__(self, data_dir):
        self.settings = e2e_settings(data_dir, staff_port=free_port(), web_port=free_port())
        self.process = None

    def env(self):
        env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}
        env.update(
            RASA_PORT=str(self.settings.rasa_port), ACTION_SERVER_PORT=str(self.settings.action_port),
            STAFF_PORT=str(self.settings.staff_port), WEB_PORT=str(self.settings.web_port),
            TRIAGE_DATA_DIR=str(self.settings.data_dir), RASA_MODEL=str(MODEL),
            PSEUDONYM_KEY=TEST_PSEUDONYM_KEY, STAFF_SECRET_KEY="supervision-test-staff-secret-key",
        )
        return env

    def start(self):
        self.output = open(self.settings.data_dir / "serve.out", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.serve"], cwd=PROJECT_ROOT, env=self.env(),
            stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            if self.status_file().exists() and self.health()[0] == 200:
                return
            time.sleep(1)
        pytest.fail(f"bot.serve did not come up in {START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self):
        """SIGTERM to bot.serve's group (it stops its children), then SIGKILL to all that is left."""
        children = self.children_pids()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for pid in children:  # each child leads its own group, out of reach of the killpg above
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.output.close()

    def log(self):
        return (self.settings.data_dir / "serve.out").read_text(errors="replace")[-4000:]

    def status_file(self):
        return self.settings.data_dir / STATUS_FILE

    def status(self):
        return json.loads(self.status_file().read_text())["children"]

    def children_pids(self):
        try:
            return [child["pid"] for child in self.status().values() if child["pid"]]
        except FileNotFoundError:
            return []

    def health(self):
        try:
            return get(self.settings.rasa_url + "/webhooks/health/", timeout=10)
        except OSError as error:
            return None, repr(error)

    def kill(self, name):
        """kill -9 of one child, found through the supervisor's status file."""
        pid = self.status()[name]["pid"]
        os.kill(pid, signal.SIGKILL)
        return pid, time.monotonic()

    def wait_for_new_pid(self, name, old_pid, timeout_s):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            child = self.status()[name]
            if child["state"] == "running" and child["pid"] not in (None, old_pid):
                return child
            time.sleep(0.2)
        pytest.fail(f"{name} was not started again within {timeout_s} s:\n{self.log()}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    served = Served(tmp_path_factory.mktemp("supervision"))
    try:
        served.start()
        yield served
    finally:
        if served.process is not None:
            served.stop()


def say(served, sender, text, timeout=30):
    """One REST turn; (status, reply), or (None, error) when the Rasa server does not answer at all."""
    try:
        return post(served.settings.rasa_url + "/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout)
    except OSError as error:  # refused or reset while it is down
        return None, repr(error)


def answered(status, reply):
    return status == 200 and isinstance(reply, list) and any(m.get("text") for m in reply)


def test_make_run_reports_its_children_and_the_health_endpoint_the_supervisor(served):
    status = served.status()
    assert set(status) == {"rasa", "actions", "staff", "web"}
    assert all(child["state"] == "running" and child["restarts"] == 0 and child["pid"] for child in status.values()), status
    code, report = served.health()
    assert code == 200 and report["ok"] is True, report
    assert set(report["parts"]) == {"rasa_server", "action_server", "tracker_store", "transcripts", "supervisor"}
    assert {name: child["restarts"] for name, child in report["parts"]["supervisor"]["children"].items()} == {
        "rasa": 0, "actions": 0, "staff": 0, "web": 0}


def test_data_files_and_logs_are_private_to_their_user(served):
    say(served, "private-files", "my leg is numb")  # the transcript and tracker databases exist now
    data_dir = Path(served.settings.data_dir)
    files = [data_dir / "transcripts.db", data_dir / "tracker.db", *sorted((data_dir / "logs").glob("*.log"))]
    assert len(files) >= 6, files
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))
    for folder in (data_dir, data_dir / "logs"):
        assert folder.stat().st_mode & 0o077 == 0, (folder, oct(folder.stat().st_mode))


def test_a_killed_rasa_server_is_started_again_and_loses_no_answered_message(served):
    sender = new_sender("kill-rasa")
    first = "my left leg has been numb for two weeks"
    assert answered(*say(served, sender, first))
    answered_texts = [first]
    old_pid, killed_at = served.kill("rasa")  # right after a reply: its transcript may still be in the spool

    # A person who keeps trying: a new message every second until one is answered.
    attempt, recovered_after = 0, None
    while time.monotonic() - killed_at < RASA_RECOVERY_BOUND_S:
        attempt += 1
        text = f"it is still numb, try {attempt}"
        status, reply = say(served, sender, text)
        if answered(status, reply):
            answered_texts.append(text)
            recovered_after = time.monotonic() - killed_at
            break
        time.sleep(1)
    assert recovered_after is not None, f"no answer within {RASA_RECOVERY_BOUND_S} s after kill -9:\n{served.log()}"
    FIGURES["recovery after kill -9: Rasa server answers again (s)"] = round(recovered_after, 1)
    FIGURES["messages tried while the Rasa server was down"] = attempt - 1
    print(f"\nRasa server answered again {recovered_after:.1f} s after kill -9 (attempt {attempt})")

    child = served.status()["rasa"]
    assert child["pid"] != old_pid and child["restarts"] == 1 and child["last_exit_code"] == -signal.SIGKILL, child
    code, report = served.health()  # not its status: a reply's transcript may be waiting in the spool a moment
    supervisor = report["parts"]["supervisor"]
    assert supervisor["ok"] is True and supervisor["children"]["rasa"]["restarts"] == 1, json.dumps(report)
    assert report["parts"]["rasa_server"]["model_loaded"] is True, json.dumps(report)
    assert "rasa exited with code -9 (SIGKILL)" in served.log() and "rasa.log" in served.log()

    for words in ["no", "in my foot"]:  # the conversation goes on
        status, reply = say(served, sender, words)
        assert answered(status, reply), (status, reply)
        answered_texts.append(words)
    stored = stored_user_texts(served.settings, sender)
    for text in answered_texts:
        assert stored.count(text) == 1, (text, stored)  # each answered message once: none lost, none twice
    assert [t for t in stored if t in answered_texts] == answered_texts  # in order


def test_a_killed_action_server_is_started_again(served):
    old_pid, killed_at = served.kill("actions")
    served.wait_for_new_pid("actions", old_pid, ACTIONS_RECOVERY_BOUND_S)
    deadline = killed_at + ACTIONS_RECOVERY_BOUND_S
    while time.monotonic() < deadline:
        code, report = served.health()
        if code is not None and report["parts"]["action_server"]["ok"]:
            break
        time.sleep(0.2)
    recovered_after = time.monotonic() - killed_at
    assert code is not None and report["parts"]["action_server"]["ok"], report
    assert report["parts"]["supervisor"]["children"]["actions"]["restarts"] == 1, report
    FIGURES["recovery after kill -9: action server answers again (s)"] = round(recovered_after, 1)
    print(f"\naction server answered again {recovered_after:.1f} s after kill -9")
    # And the triage itself (the action server's part) works again, not the technical-problem message.
    status, reply = say(served, new_sender("after-actions"), "my right foot has been tingling for a month")
    assert answered(status, reply) and not any("technical problem" in (m.get("text") or "") for m in reply), reply


def test_a_killed_staff_app_is_started_again(served):
    login = served.settings.staff_url + "/login"
    assert get(login)[0] == 200
    old_pid, killed_at = served.kill("staff")
    deadline = killed_at + STAFF_RECOVERY_BOUND_S
    code = None
    while time.monotonic() < deadline:
        try:
            code = get(login, timeout=5)[0]
        except OSError:
            code = None
        if code == 200 and served.status()["staff"]["pid"] != old_pid:
            break
        time.sleep(0.2)
    recovered_after = time.monotonic() - killed_at
    assert code == 200, f"staff app not back within {STAFF_RECOVERY_BOUND_S} s:\n{served.log()}"
    FIGURES["recovery after kill -9: staff app answers again (s)"] = round(recovered_after, 1)
    print(f"\nstaff app answered again {recovered_after:.1f} s after kill -9")
    child = served.status()["staff"]
    assert child["restarts"] == 1 and child["last_exit_code"] == -signal.SIGKILL, child
    code, report = served.health()
    restarts = {name: c["restarts"] for name, c in report["parts"]["supervisor"]["children"].items()}
    assert restarts == {"rasa": 1, "actions": 1, "staff": 1, "web": 0}, report


def test_a_clean_stop_stops_every_child_and_removes_the_status_file(served):
    pids = served.children_pids()
    assert len(pids) == 4
    os.killpg(served.process.pid, signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0, served.log()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not served.status_file().exists()
