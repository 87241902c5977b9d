"""Production mode (APP_ENV=production): secrets only from the environment, nothing starts without them.

The staff app's own checks are in tests/staff/test_security.py; here the settings, the data
folder's secrets, `python -m bot.serve` and the Rasa-side tracker store.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from bot.local_secrets import secrets_dir, with_local_secrets
from bot.serve import Assistant
from bot.settings import PROJECT_ROOT, Settings, SettingsError

PSEUDONYM = "test-pseudonym-key-0123456789"
STAFF = "test-staff-secret-key-0123456789"
SECRET_FIELDS = ("pseudonym_key", "staff_secret_key", "telegram_token", "telegram_webhook_secret",
                 "slack_token", "slack_signing_secret")


def test_no_secret_has_a_default_and_none_is_ever_printed(tmp_path):
    from_env = Settings.from_env({"TRIAGE_DATA_DIR": str(tmp_path)})
    for name in SECRET_FIELDS:
        assert getattr(Settings(), name) is None and getattr(from_env, name) is None, name
    shown = repr(Settings.from_env({"PSEUDONYM_KEY": PSEUDONYM, "STAFF_SECRET_KEY": STAFF, "SLACK_TOKEN": "xoxb-secret"}))
    assert PSEUDONYM not in shown and STAFF not in shown and "xoxb-secret" not in shown


def test_app_env_is_development_unless_told_and_nothing_else_is_accepted():
    assert Settings.from_env({}).app_env == "development" and not Settings.from_env({}).production
    assert Settings.from_env({"APP_ENV": "Production"}).production
    with pytest.raises(SettingsError, match="APP_ENV must be one of development, production"):
        Settings.from_env({"APP_ENV": "prod"})


def test_secure_cookies_are_on_in_production_and_on_request_elsewhere():
    assert Settings.from_env({"APP_ENV": "production"}).staff_secure_cookies
    assert not Settings.from_env({}).staff_secure_cookies
    assert Settings.from_env({"STAFF_SECURE_COOKIES": "true"}).staff_secure_cookies
    with pytest.raises(SettingsError, match="STAFF_SECURE_COOKIES must be true or false"):
        Settings.from_env({"STAFF_SECURE_COOKIES": "maybe"})


def test_in_development_the_data_folder_keeps_the_secrets_and_in_production_it_is_never_touched(tmp_path):
    development = Settings(data_dir=tmp_path / "dev")
    made = with_local_secrets(development, create=True)
    assert made.pseudonym_key and made.staff_secret_key
    assert with_local_secrets(development, create=False).pseudonym_key == made.pseudonym_key

    production = dataclasses.replace(development, app_env="production")
    assert with_local_secrets(production, create=False).pseudonym_key is None  # not read...
    fresh = dataclasses.replace(production, data_dir=tmp_path / "prod")
    assert with_local_secrets(fresh, create=True).staff_secret_key is None
    assert not secrets_dir(fresh).exists()  # ...and not made


def _serve(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PSEUDONYM_KEY", "STAFF_SECRET_KEY", "APP_ENV")}
    env.update(PYTHONPATH=str(PROJECT_ROOT), TRIAGE_DATA_DIR=str(tmp_path / "data"), APP_ENV="production", **extra)
    return subprocess.run([sys.executable, "-m", "bot.serve"], env=env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120)


def test_python_m_bot_serve_in_production_refuses_to_start_without_the_secrets(tmp_path):
    # Secrets a development run left in the data folder do not count in production.
    with_local_secrets(Settings(data_dir=tmp_path / "data"), create=True)
    done = _serve(tmp_path)
    assert done.returncode == 2
    assert "error: APP_ENV=production and PSEUDONYM_KEY and STAFF_SECRET_KEY are not set" in done.stderr
    assert not (tmp_path / "data" / "transcripts.db").exists() and not (tmp_path / "data" / "logs").exists()

    done = _serve(tmp_path, PSEUDONYM_KEY=PSEUDONYM)
    assert done.returncode == 2 and "APP_ENV=production and STAFF_SECRET_KEY is not set" in done.stderr
    done = _serve(tmp_path, STAFF_SECRET_KEY=STAFF)
    assert done.returncode == 2 and "APP_ENV=production and PSEUDONYM_KEY is not set" in done.stderr


def test_the_assistant_itself_will_not_start_children_in_production_without_the_secrets(tmp_path):
    assistant = Assistant(Settings(data_dir=tmp_path, app_env="production", staff_secret_key=STAFF), quiet=True)
    with pytest.raises(RuntimeError, match="PSEUDONYM_KEY is not set"):
        assistant.start()
    assert assistant.processes == {} and not secrets_dir(assistant.settings).exists()


def test_the_tracker_store_in_the_rasa_server_refuses_without_a_pseudonym_key_in_production(tmp_path):
    from bot.store.tracker_store import TranscriptTrackerStore

    settings = Settings(data_dir=tmp_path, app_env="production", staff_secret_key=STAFF)
    with pytest.raises(SettingsError, match=r"PSEUDONYM_KEY is not set.*Set it in the environment"):
        TranscriptTrackerStore(settings=settings, db=str(tmp_path / "tracker.db"))
