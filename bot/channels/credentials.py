"""The credentials file Rasa is started with: credentials.yml plus the channels the settings enable.

Telegram is added only when its token, webhook secret and bot username are set, Slack when its
token and signing secret are; the secrets
themselves stay in the environment (the channel classes read them through bot.settings), so the
file written into the data folder holds none.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml

from ..settings import PROJECT_ROOT, Settings

BASE = PROJECT_ROOT / "credentials.yml"
TELEGRAM = "bot.channels.telegram.TriageTelegramInput"
SLACK = "bot.channels.slack.TriageSlackInput"


def effective_credentials(settings: Settings, base: Path = BASE) -> Dict[str, Any]:
    credentials = yaml.safe_load(base.read_text(encoding="utf-8")) or {}
    if settings.telegram_enabled:
        credentials[TELEGRAM] = {}
    if settings.slack_enabled:
        credentials[SLACK] = {}
    return credentials


def write_credentials(settings: Settings) -> Path:
    path = settings.instance_dir / "credentials.yml"  # the data dir, or this Rasa server's own folder in it
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by bot/serve.py from credentials.yml and the settings; edit those, not this file.\n"
    path.write_text(header + yaml.safe_dump(effective_credentials(settings), sort_keys=False), encoding="utf-8")
    return path
