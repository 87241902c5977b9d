"""Which channels Rasa is started with: Telegram only when its settings are complete, no secret on disk."""
from __future__ import annotations

import pytest
import yaml

from bot.channels.credentials import SLACK, TELEGRAM, effective_credentials, write_credentials
from bot.serve import rasa_env
from bot.settings import Settings, SettingsError

TELEGRAM_ENV = {"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": "s" * 20, "TELEGRAM_BOT_USERNAME": "@triage_bot"}


def test_without_telegram_settings_the_channel_stays_off():
    settings = Settings.from_env({})
    assert not settings.telegram_enabled
    credentials = effective_credentials(settings)
    assert TELEGRAM not in credentials and "bot.channels.rest.GuardedRestInput" in credentials
    assert "bot.channels.socketio.WidgetSocketIOInput" in credentials


@pytest.mark.parametrize("missing", sorted(TELEGRAM_ENV))
def test_telegram_needs_its_token_secret_and_username(missing):
    env = {k: v for k, v in TELEGRAM_ENV.items() if k != missing}
    assert not Settings.from_env(env).telegram_enabled


def test_with_them_rasa_gets_our_channel_and_the_secrets_stay_in_the_environment(tmp_path):
    settings = Settings.from_env({**TELEGRAM_ENV, "TRIAGE_DATA_DIR": str(tmp_path)})
    assert settings.telegram_enabled and settings.telegram_bot_username == "triage_bot"
    assert settings.telegram_api_url == "https://api.telegram.org"
    path = write_credentials(settings)
    assert TELEGRAM in yaml.safe_load(path.read_text())
    assert "s" * 20 not in path.read_text() and "123:abc" not in path.read_text()
    env = rasa_env(settings, base={})
    assert Settings.from_env(env).telegram_webhook_secret == "s" * 20 and env["TELEGRAM_TOKEN"] == "123:abc"


def test_the_webhook_secret_must_be_long_enough():
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings.from_env({**TELEGRAM_ENV, "TELEGRAM_WEBHOOK_SECRET": "short"})


def test_the_webhook_secret_takes_only_what_telegram_accepts():
    with pytest.raises(SettingsError, match="only letters, digits"):
        Settings.from_env({**TELEGRAM_ENV, "TELEGRAM_WEBHOOK_SECRET": "a secret with spaces in it"})


def test_slack_needs_its_token_and_signing_secret(tmp_path):
    assert not Settings.from_env({"SLACK_TOKEN": "xoxb-1"}).slack_enabled
    settings = Settings.from_env({"SLACK_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "g" * 32, "TRIAGE_DATA_DIR": str(tmp_path)})
    assert settings.slack_enabled and settings.slack_api_url == "https://slack.com/api/"
    text = write_credentials(settings).read_text()
    assert SLACK in yaml.safe_load(text) and "g" * 32 not in text and "xoxb-1" not in text
    assert Settings.from_env(rasa_env(settings, base={})).slack_signing_secret == "g" * 32
