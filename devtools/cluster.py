"""Several Rasa servers on one machine, set up as a deployment runs them, for the tests and the benchmark.

``local_cluster(work_dir)`` starts a throw-away PostgreSQL (Rasa's events in one database, the
transcripts in another) and Redis (the conversation locks, with a password) from devtools.devservers,
migrates the transcript database once, then one action server and N Rasa servers exactly as
deploy/Procfile starts them (``python -m bot.instance rasa|actions``, configured only by environment
variables), each with its own INSTANCE_NAME and port, all sharing one data dir. Everything stops
when the block ends. Nothing starts on import.
"""
from __future__ import annotations

import contextlib
import secrets
import string
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from .devservers import PostgresServer, RedisServer, free_port, postgres_bin_dir, redis_server_program
from bot.processes import ChildProcesses
from bot.serve import rasa_env
from bot.settings import PROJECT_ROOT, Settings
from bot.store.migrate import upgrade_to_head

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"


@dataclass
class LocalCluster:
    base: Settings  # what every process shares
    servers: List[Settings]  # one per Rasa server: its port and INSTANCE_NAME
    postgres: PostgresServer
    redis: RedisServer
    log_dir: Path
    children: ChildProcesses = field(init=False)

    def __post_init__(self) -> None:
        self.children = ChildProcesses(self.log_dir)

    @property
    def processes(self) -> Dict[str, subprocess.Popen]:
        return self.children.processes

    @property
    def urls(self) -> List[str]:
        return [server.rasa_url for server in self.servers]

    def spawn(self, name: str, process: str, settings: Settings) -> None:
        """`python -m bot.instance PROCESS` with `settings` as environment variables, like a Procfile line."""
        env = rasa_env(settings)
        env.update(ACTION_SERVER_HOST=settings.action_host, ACTION_SERVER_PORT=str(settings.action_port),
                   RASA_MODEL=str(settings.model_path))
        self.children.spawn(name, [sys.executable, "-m", "bot.instance", process], env)


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
        cluster.children.wait_until_up(checks)
        yield cluster
    finally:
        if cluster is not None:
            cluster.children.stop_all()
        redis.destroy()
        postgres.destroy()
