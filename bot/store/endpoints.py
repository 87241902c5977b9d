"""The endpoints file Rasa is started with: endpoints.yml plus the lock store the settings ask for.

With LOCK_STORE_URL set, the conversation locks go to the shared Redis (bot/store/lock_store.py),
as several Rasa servers need; unset, Rasa keeps them in memory, which is right for one server.
Written as text, not through a YAML round trip, so endpoints.yml's ${...} references stay unquoted
(Rasa expands only unquoted ones). The file holds no secret: the Redis address is read from the
environment.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..settings import PROJECT_ROOT, Settings

BASE = PROJECT_ROOT / "endpoints.yml"
LOCK_STORE = "bot.store.lock_store.SharedRedisLockStore"


def effective_endpoints(settings: Settings, base: Path = BASE) -> str:
    text = base.read_text(encoding="utf-8")
    has_lock_store = any(line.startswith("lock_store:") for line in text.splitlines())
    if settings.lock_store_url and not has_lock_store:
        text = text.rstrip("\n") + "\n\n# Added because LOCK_STORE_URL is set: locks shared by all Rasa servers.\n"
        text += f"lock_store:\n  type: {LOCK_STORE}\n"
    return text


def write_endpoints(settings: Settings) -> Path:
    """Into this server's own folder (instance_dir), atomically: servers sharing a data dir may start together."""
    path = settings.instance_dir / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by bot/serve.py from endpoints.yml and the settings; edit those, not this file.\n"
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(header + effective_endpoints(settings), encoding="utf-8")
    os.replace(temporary, path)
    return path
