"""The one place that reads environment variables. Documented in README.md and .env.example.

Nothing here opens a connection or a file: ``Settings.from_env()`` only reads values,
and callers decide when to use them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable has a value we cannot use."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise SettingsError(f"{name} must be between 1 and 65535, got {port}")
    return port


@dataclass(frozen=True)
class Settings:
    emergency_number: str = "911"
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_host: str = "127.0.0.1"
    action_port: int = 5055
    data_dir: Path = PROJECT_ROOT / "var"
    model_path: Path = PROJECT_ROOT / "models"
    tracker_db: Optional[Path] = None  # default: data_dir / "tracker.db"

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = Path(env.get("TRIAGE_DATA_DIR") or cls.data_dir)
        number = env.get("EMERGENCY_NUMBER", cls.emergency_number).strip()
        if not number or not all(ch.isdigit() or ch in "+ -" for ch in number):
            raise SettingsError(f"EMERGENCY_NUMBER must be a phone number such as 911 or 112, got {number!r}")
        return cls(
            emergency_number=number,
            rasa_host=env.get("RASA_HOST") or cls.rasa_host,
            rasa_port=_port(env, "RASA_PORT", cls.rasa_port),
            action_host=env.get("ACTION_SERVER_HOST") or cls.action_host,
            action_port=_port(env, "ACTION_SERVER_PORT", cls.action_port),
            data_dir=data_dir,
            model_path=Path(env.get("RASA_MODEL") or cls.model_path),
            tracker_db=Path(env["TRACKER_DB"]) if env.get("TRACKER_DB") else data_dir / "tracker.db",
        )

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}/webhook"
