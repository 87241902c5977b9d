"""Starts the assistant: ``python -m bot.serve`` (what ``make run`` calls).

Runs Rasa's action server and Rasa's own server as child processes, with the
environment built from ``bot.settings``, waits until both answer, prints what runs
where, starts again any child that dies (with a back-off, bot.processes.Supervisor), and
stops them all cleanly on Ctrl-C or SIGTERM. ``python -m bot.serve rasa ARGS``
runs any other Rasa command with the same environment (``make test`` uses it).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from .channels.credentials import write_credentials
from .local_secrets import production_secrets_error, with_local_secrets
from .processes import STATUS_FILE, ChildProcesses, Supervisor, keep_files_private
from .settings import PROJECT_ROOT, Settings
from .store.endpoints import write_endpoints
from .store.migrate import redacted, upgrade_to_head


SUPERVISE_EVERY_S = 0.5  # how soon a dead child is noticed


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
        MAX_REQUEST_BYTES=str(settings.max_request_bytes),
        CONCURRENT_MESSAGES=str(settings.concurrent_messages),
        BUSY_AFTER_S=str(int(settings.busy_after_s)),
        APP_ENV=settings.app_env,  # the children apply the same production rules
        STAFF_SECURE_COOKIES=str(settings.staff_secure_cookies).lower(),
    )
    passed_on = (
        ("PSEUDONYM_KEY", settings.pseudonym_key), ("STAFF_SECRET_KEY", settings.staff_secret_key),
        ("TELEGRAM_TOKEN", settings.telegram_token), ("TELEGRAM_WEBHOOK_SECRET", settings.telegram_webhook_secret),
        ("TELEGRAM_BOT_USERNAME", settings.telegram_bot_username), ("TELEGRAM_WEBHOOK_URL", settings.telegram_webhook_url),
        ("SLACK_TOKEN", settings.slack_token), ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        ("RASA_API_TOKEN", settings.rasa_api_token),
        ("TRACKER_STORE_URL", settings.tracker_store_url), ("LOCK_STORE_URL", settings.lock_store_url),
        ("INSTANCE_NAME", settings.instance_name),
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


def rasa_server_command(settings: Settings) -> List[str]:
    """One Rasa server, with the effective endpoints and credentials files written for it."""
    return rasa_command(
        "run",
        "--model", str(settings.model_path),
        "--endpoints", str(write_endpoints(settings)),
        "--credentials", str(write_credentials(settings)),
        "--interface", settings.rasa_host,
        "--port", str(settings.rasa_port),
        *http_api_options(settings),
    )


def actions_command(settings: Settings) -> List[str]:
    """The Rasa SDK's action server as its documentation starts it, not through Rasa's command line:
    that brought Rasa and TensorFlow (about 430 MB) into a process that uses neither.
    Binds to ACTION_SERVER_HOST (rasa_env passes it as SANIC_HOST)."""
    return [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_port)]


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
        self.children = ChildProcesses(self.log_dir)
        self._checks: Dict[str, str] = {}

    @property
    def processes(self) -> Dict[str, subprocess.Popen]:
        return self.children.processes

    def _say(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    def _command(self, name: str) -> List[str]:
        """Built anew at each start, from the current settings (the tests change some between restarts)."""
        return {
            "actions": lambda: actions_command(self.settings),
            "rasa": lambda: rasa_server_command(self.settings),
            "staff": lambda: [sys.executable, "-m", "bot.staff", "serve"],
            "web": lambda: [sys.executable, "-m", "bot.web"],
        }[name]()

    def _start(self, names: List[str]) -> None:
        for name in names:
            self.children.spawn(name, self._command(name), rasa_env(self.settings))
        try:
            self.children.wait_until_up({name: self._checks[name] for name in names}, on_up=lambda n: self._say(f"  {n} is up"))
        except RuntimeError:
            self.stop()
            raise

    def start(self) -> "Assistant":
        # Unset secrets come from (or are generated into) the data folder; our tables are
        # migrated before the first message can arrive.
        self.settings = settings = with_local_secrets(self.settings, create=True)
        problem = production_secrets_error(settings)
        if problem:
            raise RuntimeError(problem)
        upgrade_to_head(settings.transcripts_url)
        Path(settings.tracker_db).parent.mkdir(parents=True, exist_ok=True)
        self._checks = {"actions": settings.action_url.replace("/webhook", "/health"), "rasa": settings.rasa_url + "/"}
        if self.staff:
            self._checks["staff"] = settings.staff_url + "/login"
        if self.web:
            self._checks["web"] = settings.web_url + "/health"
        self._say("Starting the action server and the Rasa server (loading the model takes a little while)...")
        self._start(list(self._checks))
        return self

    def restart(self, name: str) -> None:
        """Stops one child (SIGTERM, as a deployment would) and starts it again."""
        self.children.stop(name, timeout_s=30)
        self._start([name])

    def tail(self, name: str, lines: int = 30) -> str:
        return self.children.tail(name, lines)

    def stop(self) -> None:
        self.children.stop_all()

    def __enter__(self) -> "Assistant":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def banner(settings: Settings, log_dir: Path) -> str:
    tracker_store = redacted(settings.tracker_store_url) if settings.tracker_store_url else Path(settings.tracker_db).resolve()
    return "\n".join(
        [
            "",
            "The leg-numbness triage assistant is running:",
            f"  Rasa server (REST)      POST {settings.rasa_url}/webhooks/rest/webhook",
            f"  Rasa server (socket.io) {settings.rasa_url}/socket.io",
            f"  Action server           {settings.action_url}",
            f"  Tracker store           {tracker_store}",
            f"  Transcripts             {redacted(settings.transcripts_url)}",
            f"  Staff review app        {settings.staff_url}/   (transcript health: {settings.staff_url}/health)",
            "    add an account:       .venv/bin/python -m bot.staff add-user NAME --role admin",
            f"  Website chat widget     {settings.web_url}/   (socket.io open to {', '.join(settings.allowed_origins)})",
            "  Telegram                " + ("POST " + settings.rasa_url + "/webhooks/telegram/webhook" if settings.telegram_enabled
                                             else "off (set TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET, TELEGRAM_BOT_USERNAME)"),
            "  Slack                   " + ("POST " + settings.rasa_url + "/webhooks/slack/webhook" if settings.slack_enabled
                                             else "off (set SLACK_TOKEN, SLACK_SIGNING_SECRET)"),
            f"  Health of every part    {settings.rasa_url}/webhooks/health/",
            f"  Logs                    {log_dir}",
            f"  Restarts                {Path(settings.data_dir).resolve() / STATUS_FILE} (a child that dies is started again)",
            "Try:",
            f"  curl -s {settings.rasa_url}/webhooks/rest/webhook -H 'Content-Type: application/json' \\",
            "       -d '{\"sender\": \"me\", \"message\": \"my left foot has been numb for three weeks\"}'",
            "Press Ctrl-C to stop.",
        ]
    )


def run_forever(settings: Settings) -> int:
    """`make run`: everything up, then a child that dies is started again (bot.processes.Supervisor)."""
    assistant = Assistant(settings, staff=True, web=True)
    supervisor: Optional[Supervisor] = None
    stop_requested = []
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.append(True))
    try:
        assistant.start()
        supervisor = Supervisor(assistant.children, Path(assistant.settings.data_dir) / STATUS_FILE)
        print(banner(assistant.settings, assistant.log_dir), flush=True)
        while not stop_requested:
            supervisor.step()
            time.sleep(SUPERVISE_EVERY_S)
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping...", flush=True)
        assistant.stop()
        if supervisor:
            supervisor.remove_status()
        print("Stopped.", flush=True)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.serve", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "rasa"])
    parser.add_argument("rasa_args", nargs=argparse.REMAINDER, help="with 'rasa': the Rasa command to run")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    keep_files_private(settings.data_dir)
    if args.command == "rasa":
        # Reads the data folder's secrets but never makes them: only `make run` does that.
        settings = with_local_secrets(settings, create=False)
        return subprocess.call(rasa_command(*args.rasa_args), cwd=PROJECT_ROOT, env=rasa_env(settings))
    problem = production_secrets_error(settings)
    if problem:  # before anything starts or is written
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return run_forever(settings)


if __name__ == "__main__":
    sys.exit(main())
