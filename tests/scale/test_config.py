"""The settings of a deployment with several Rasa servers, and the files and environment they give."""
from __future__ import annotations

import pytest
import yaml

from bot.instance import rasa_server_command
from bot.serve import banner, rasa_env
from bot.settings import PROJECT_ROOT, Settings, SettingsError
from bot.store.endpoints import LOCK_STORE, effective_endpoints
from bot.store.spool import spools_in

LOCK_URL = "redis://:s3cret-redis-password@cache.internal:6379/0"
TRACKER_URL = "postgresql+psycopg2://rasa:s3cret-pg-password@db.internal:5432/rasa"


def test_the_settings_are_read_from_the_environment(tmp_path):
    settings = Settings.from_env({
        "TRIAGE_DATA_DIR": str(tmp_path), "TRACKER_STORE_URL": TRACKER_URL, "LOCK_STORE_URL": LOCK_URL,
        "INSTANCE_NAME": "rasa-2",
    })
    assert (settings.tracker_store_url, settings.lock_store_url, settings.instance_name) == (TRACKER_URL, LOCK_URL, "rasa-2")
    assert settings.transcript_spool == tmp_path / "instances" / "rasa-2" / "transcripts-spool.jsonl"
    assert "s3cret" not in repr(settings)
    unset = Settings.from_env({"TRIAGE_DATA_DIR": str(tmp_path)})
    assert (unset.tracker_store_url, unset.lock_store_url, unset.instance_name) == (None, None, None)
    assert unset.transcript_spool == tmp_path / "transcripts-spool.jsonl"  # one server: as before


@pytest.mark.parametrize("name, value", [
    ("LOCK_STORE_URL", "http://cache.internal"), ("INSTANCE_NAME", "../elsewhere"), ("INSTANCE_NAME", "a b"),
])
def test_unusable_values_are_refused(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_lock_store_is_added_only_when_a_url_is_set(tmp_path):
    plain = effective_endpoints(Settings(data_dir=tmp_path))
    assert "lock_store" not in yaml.safe_load(plain)  # Rasa's in-memory locks: one server
    shared = effective_endpoints(Settings(data_dir=tmp_path, lock_store_url=LOCK_URL))
    assert yaml.safe_load(shared)["lock_store"] == {"type": LOCK_STORE}
    assert "url: ${ACTION_ENDPOINT_URL}" in shared and "s3cret" not in shared  # references kept unquoted, no secret


def test_each_named_server_writes_its_files_into_its_own_folder(tmp_path):
    settings = Settings(data_dir=tmp_path, instance_name="rasa-b", lock_store_url=LOCK_URL, rasa_port=5123)
    command = rasa_server_command(settings)
    endpoints = command[command.index("--endpoints") + 1]
    credentials = command[command.index("--credentials") + 1]
    assert endpoints == str(tmp_path / "instances" / "rasa-b" / "endpoints.yml")
    assert credentials == str(tmp_path / "instances" / "rasa-b" / "credentials.yml")
    assert command[command.index("--port") + 1] == "5123"


def test_every_spool_in_the_data_dir_is_found(tmp_path):
    for name in ("rasa-a", "rasa-b"):
        Settings(data_dir=tmp_path, instance_name=name).transcript_spool.parent.mkdir(parents=True)
        Settings(data_dir=tmp_path, instance_name=name).transcript_spool.write_text("")
    paths = [spool.path for spool in spools_in(tmp_path)]
    assert paths == [tmp_path / "transcripts-spool.jsonl"] + [
        tmp_path / "instances" / name / "transcripts-spool.jsonl" for name in ("rasa-a", "rasa-b")
    ]


def test_the_servers_get_the_settings_and_the_banner_hides_passwords(tmp_path):
    settings = Settings(data_dir=tmp_path, tracker_db=tmp_path / "t.db", tracker_store_url=TRACKER_URL,
                        lock_store_url=LOCK_URL, instance_name="a")
    env = rasa_env(settings, base={})
    assert (env["TRACKER_STORE_URL"], env["LOCK_STORE_URL"], env["INSTANCE_NAME"]) == (TRACKER_URL, LOCK_URL, "a")
    assert Settings.from_env(env).transcript_spool == settings.transcript_spool
    shown = banner(settings, tmp_path)
    assert "db.internal" in shown and "s3cret" not in shown
    assert "TRACKER_STORE_URL" not in rasa_env(Settings(data_dir=tmp_path, tracker_db=tmp_path / "t.db"), base={})


def procfile() -> dict:
    lines = (PROJECT_ROOT / "deploy" / "Procfile").read_text(encoding="utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def test_the_procfile_starts_what_the_tests_start_and_the_balancer_knows_its_servers():
    processes = procfile()
    assert processes["actions"] == ".venv/bin/python -m bot.instance actions"
    rasa = {name: command for name, command in processes.items() if name.startswith("rasa_")}
    settings = [Settings.from_env(dict(word.split("=", 1) for word in command.split() if "=" in word))
                for command in rasa.values()]
    assert all(command.endswith(" .venv/bin/python -m bot.instance rasa") for command in rasa.values())
    assert len({s.instance_name for s in settings}) == len({s.rasa_port for s in settings}) == len(rasa) >= 2
    balancer = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    for server in settings:  # in both upstreams: round-robin and sticky
        assert balancer.count(f"server 127.0.0.1:{server.rasa_port}") == 2
    assert {processes["staff"], processes["web"]} == {".venv/bin/python -m bot.staff serve", ".venv/bin/python -m bot.web"}
