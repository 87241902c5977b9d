"""Several Rasa servers on one machine, set up as a deployment runs them, for the tests and the benchmark.

``local_cluster(work_dir)`` starts a throw-away PostgreSQL (Rasa's events in one database, the
transcripts in another) and Redis (the conversation locks, with a password) from bot.devservers,
migrates the transcript database once, then one action server and N Rasa servers exactly as
deploy/Procfile starts them (``python -m bot.instance rasa|actions``, configured only by environment
variables), each with its own INSTANCE_NAME and port, all sharing one data dir. Everything stops
when the block ends. Nothing starts on import.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import string
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from .devservers import PostgresServer, RedisServer, free_port, postgres_bin_dir, redis_server_program
from .serve import STARTUP_TIMEOUT_S, _answers, rasa_env
from .settings import PROJECT_ROOT, Settings
from .store.migrate import upgrade_to_head

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"


@dataclass
class LocalCluster:
    base: Settings  # what every process shares
    servers: List[Settings]  # one per Rasa server: its port and INSTANCE_NAME
    postgres: PostgresServer
    redis: RedisServer
    log_dir: Path
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def urls(self) -> List[str]:
        return [server.rasa_url for server in self.servers]

    def spawn(self, name: str, process: str, settings: Settings) -> None:
        """`python -m bot.instance PROCESS` with `settings` as environment variables, like a Procfile line."""
        env = rasa_env(settings)
        env.update(ACTION_SERVER_HOST=settings.action_host, ACTION_SERVER_PORT=str(settings.action_port),
                   RASA_MODEL=str(settings.model_path))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "bot.instance", process], cwd=PROJECT_ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def wait_until_up(self, checks: Dict[str, str], timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        deadline, waiting = time.monotonic() + timeout_s, set(checks)
        while waiting:
            for name in sorted(waiting):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited at start-up; see {self.log_dir / (name + '.log')}:\n{self.tail(name)}")
                if _answers(checks[name]):
                    waiting.discard(name)
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"{', '.join(sorted(waiting))} did not answer within {timeout_s:.0f} s")
            time.sleep(0.5)

    def stop_processes(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def instance_names(count: int) -> List[str]:
    return [f"rasa-{letter}" for letter in string.ascii_lowercase[:count]]


@contextlib.contextmanager
def local_cluster(
    work_dir: Path, instances: int = 2, model: Path = DEFAULT_MODEL, pseudonym_key: Optional[str] = None
) -> Iterator[LocalCluster]:
    bin_dir, redis_program = postgres_bin_dir(), redis_server_program()
    if bin_dir is None or redis_program is None:
        raise RuntimeError("needs PostgreSQL and Redis installed (`make system-deps`)")
    data_dir = Path(work_dir) / "data"
    postgres = PostgresServer(bin_dir)
    redis = RedisServer(redis_program, password=secrets.token_hex(16))
    cluster: Optional[LocalCluster] = None
    try:
        postgres.initialise()
        redis.start()
        base = Settings(
            data_dir=data_dir,
            model_path=Path(model),
            tracker_db=data_dir / "unused-tracker.db",  # TRACKER_STORE_URL replaces it
            action_port=free_port(),
            tracker_store_url=postgres.create_database(),
            database_url=postgres.create_database(),
            lock_store_url=redis.url(),
            pseudonym_key=pseudonym_key or secrets.token_hex(16),
        )
        upgrade_to_head(base.transcripts_url)  # once, before any Rasa server can write
        servers = [replace(base, rasa_port=free_port(), instance_name=name) for name in instance_names(instances)]
        cluster = LocalCluster(base, servers, postgres, redis, log_dir=data_dir / "logs")
        cluster.spawn("actions", "actions", base)
        for server in servers:
            cluster.spawn(server.instance_name, "rasa", server)
        checks = {"actions": base.action_url.replace("/webhook", "/health")}
        checks.update({server.instance_name: server.rasa_url + "/" for server in servers})
        cluster.wait_until_up(checks)
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop_processes()
        redis.destroy()
        postgres.destroy()
