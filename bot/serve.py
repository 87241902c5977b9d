"""Starts the assistant: ``python -m bot.serve`` (what ``make run`` calls).

Runs Rasa's action server and Rasa's own server as child processes, with the
environment built from ``bot.settings``, waits until both answer, prints what runs
where, and stops both cleanly on Ctrl-C or SIGTERM. ``python -m bot.serve rasa ARGS``
runs any other Rasa command with the same environment (``make test`` uses it).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from .channels.credentials import write_credentials
from .local_secrets import with_local_secrets
from .settings import PROJECT_ROOT, Settings
from .store.migrate import redacted, upgrade_to_head

STARTUP_TIMEOUT_S = 180.0


def rasa_env(settings: Settings, base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment for the child processes: endpoints.yml reads ACTION_ENDPOINT_URL and TRACKER_DB;
    the transcript tracker store and the staff app read the rest through Settings.from_env()."""
    env = dict(os.environ if base is None else base)
    env.update(
        ACTION_ENDPOINT_URL=settings.action_url,
        TRACKER_DB=str(Path(settings.tracker_db).resolve()),
        # Rasa's telemetry and its error reporting (Sentry) are off: nothing leaves the machine.
        RASA_TELEMETRY_ENABLED="false",
        SANIC_HOST=settings.action_host,  # where rasa_sdk's action server binds
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")])),
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TRIAGE_DATA_DIR=str(Path(settings.data_dir).resolve()),
        DATABASE_URL=settings.transcripts_url,
        STAFF_HOST=settings.staff_host,
        STAFF_PORT=str(settings.staff_port),
        RASA_HOST=settings.rasa_host,  # the widget page points at the Rasa server
        RASA_PORT=str(settings.rasa_port),
        WEB_HOST=settings.web_host,
        WEB_PORT=str(settings.web_port),
        ALLOWED_ORIGINS=",".join(settings.allowed_origins),  # read by bot.channels.socketio
        EMERGENCY_NUMBER=settings.emergency_number,
        ACTION_TIMEOUT_S=str(int(settings.action_timeout_s)),
        RATE_LIMIT_PER_MINUTE=str(settings.rate_limit_per_minute),
    )
    passed_on = (
        ("PSEUDONYM_KEY", settings.pseudonym_key), ("STAFF_SECRET_KEY", settings.staff_secret_key),
        ("TELEGRAM_TOKEN", settings.telegram_token), ("TELEGRAM_WEBHOOK_SECRET", settings.telegram_webhook_secret),
        ("TELEGRAM_BOT_USERNAME", settings.telegram_bot_username), ("TELEGRAM_WEBHOOK_URL", settings.telegram_webhook_url),
        ("SLACK_TOKEN", settings.slack_token), ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        ("RASA_API_TOKEN", settings.rasa_api_token),
    )
    for name, value in passed_on:
        if value:
            env[name] = value
    env["TELEGRAM_API_URL"], env["SLACK_API_URL"] = settings.telegram_api_url, settings.slack_api_url
    return env


def rasa_command(*args: str) -> List[str]:
    """Rasa's command line, with our guarded remote action (bot/rasa_server)."""
    return [sys.executable, "-m", "bot.rasa_server", *args]


def http_api_options(settings: Settings) -> List[str]:
    """Rasa's HTTP API (trackers, model, parse...) stays off unless a token protects it."""
    return ["--enable-api", "--auth-token", settings.rasa_api_token] if settings.rasa_api_token else []


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


class Assistant:
    """The Rasa server and the action server (with staff=True the staff app, with web=True the
    widget page) as child processes."""

    def __init__(
        self, settings: Settings, log_dir: Optional[Path] = None, quiet: bool = False, staff: bool = False, web: bool = False
    ):
        self.settings = settings
        self.staff = staff
        self.web = web
        self.log_dir = Path(log_dir or settings.data_dir / "logs")
        self.quiet = quiet
        self.processes: Dict[str, subprocess.Popen] = {}
        self._commands: Dict[str, List[str]] = {}  # kept for restart()
        self._checks: Dict[str, str] = {}

    def _say(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    def _spawn(self, name: str, command: List[str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        self._commands[name] = command
        self.processes[name] = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=rasa_env(self.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children ourselves
        )
        log.close()

    def _rasa_command(self) -> List[str]:
        settings = self.settings
        return rasa_command(
            "run",
            "--model", str(settings.model_path),
            "--endpoints", "endpoints.yml",
            "--credentials", str(write_credentials(settings)),
            "--interface", settings.rasa_host,
            "--port", str(settings.rasa_port),
            *http_api_options(settings),
        )

    def start(self) -> "Assistant":
        # Unset secrets come from (or are generated into) the data folder; our tables are
        # migrated before the first message can arrive.
        self.settings = settings = with_local_secrets(self.settings, create=True)
        upgrade_to_head(settings.transcripts_url)
        Path(settings.tracker_db).parent.mkdir(parents=True, exist_ok=True)
        self._spawn("actions", rasa_command("run", "actions", "--actions", "actions", "--port", str(settings.action_port)))
        self._spawn("rasa", self._rasa_command())
        checks = {"actions": settings.action_url.replace("/webhook", "/health"), "rasa": settings.rasa_url + "/"}
        if self.staff:
            self._spawn("staff", [sys.executable, "-m", "bot.staff", "serve"])
            checks["staff"] = settings.staff_url + "/login"
        if self.web:
            self._spawn("web", [sys.executable, "-m", "bot.web"])
            checks["web"] = settings.web_url + "/health"
        self._checks = checks
        self._wait_for(checks)
        return self

    def _wait_for(self, checks: Dict[str, str]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        waiting = set(checks)
        self._say("Starting the action server and the Rasa server (loading the model takes a little while)...")
        while waiting:
            for name in sorted(waiting):
                if self.processes[name].poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{name} exited at start-up; see {self.log_dir / (name + '.log')}:\n{self.tail(name)}")
                if _answers(checks[name]):
                    waiting.discard(name)
                    self._say(f"  {name} is up")
            if waiting and time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{', '.join(sorted(waiting))} did not answer within {STARTUP_TIMEOUT_S:.0f} s")
            time.sleep(0.5)

    def restart(self, name: str) -> None:
        """Stops one child (SIGTERM, as a deployment would) and starts it again, with the current
        settings (the tests change some in between)."""
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        self._spawn(name, self._rasa_command() if name == "rasa" else self._commands[name])
        self._wait_for({name: self._checks[name]})

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> "Assistant":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def banner(settings: Settings, log_dir: Path) -> str:
    return "\n".join(
        [
            "",
            "The leg-numbness triage assistant is running:",
            f"  Rasa server (REST)      POST {settings.rasa_url}/webhooks/rest/webhook",
            f"  Rasa server (socket.io) {settings.rasa_url}/socket.io",
            f"  Action server           {settings.action_url}",
            f"  Tracker store (SQLite)  {Path(settings.tracker_db).resolve()}",
            f"  Transcripts             {redacted(settings.transcripts_url)}",
            f"  Staff review app        {settings.staff_url}/   (transcript health: {settings.staff_url}/health)",
            "    add an account:       .venv/bin/python -m bot.staff add-user NAME --role admin",
            f"  Website chat widget     {settings.web_url}/   (socket.io open to {', '.join(settings.allowed_origins)})",
            "  Telegram                " + ("POST " + settings.rasa_url + "/webhooks/telegram/webhook" if settings.telegram_enabled
                                             else "off (set TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET, TELEGRAM_BOT_USERNAME)"),
            "  Slack                   " + ("POST " + settings.rasa_url + "/webhooks/slack/webhook" if settings.slack_enabled
                                             else "off (set SLACK_TOKEN, SLACK_SIGNING_SECRET)"),
            f"  Logs                    {log_dir}",
            "Try:",
            f"  curl -s {settings.rasa_url}/webhooks/rest/webhook -H 'Content-Type: application/json' \\",
            "       -d '{\"sender\": \"me\", \"message\": \"my left foot has been numb for three weeks\"}'",
            "Press Ctrl-C to stop.",
        ]
    )


def run_forever(settings: Settings) -> int:
    assistant = Assistant(settings, staff=True, web=True)
    stop_requested = []
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.append(True))
    try:
        assistant.start()
        print(banner(assistant.settings, assistant.log_dir), flush=True)
        while not stop_requested:
            for name, process in assistant.processes.items():
                if process.poll() is not None:
                    print(f"{name} stopped unexpectedly; see {assistant.log_dir / (name + '.log')}", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping...", flush=True)
        assistant.stop()
        print("Stopped.", flush=True)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.serve", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "rasa"])
    parser.add_argument("rasa_args", nargs=argparse.REMAINDER, help="with 'rasa': the Rasa command to run")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "rasa":
        # Reads the data folder's secrets but never makes them: only `make run` does that.
        settings = with_local_secrets(settings, create=False)
        return subprocess.call(rasa_command(*args.rasa_args), cwd=PROJECT_ROOT, env=rasa_env(settings))
    return run_forever(settings)


if __name__ == "__main__":
    sys.exit(main())
