"""deploy/systemd: every process of deploy/Procfile has a unit that runs the same command and is
started again when it stops, with the hardening the README promises."""
from __future__ import annotations

import shlex
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from bot.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = DEPLOY / "systemd"


def parse_unit(path: Path) -> Dict[str, Dict[str, List[str]]]:
    """section -> key -> every value given (systemd allows a key more than once)."""
    sections: Dict[str, Dict[str, List[str]]] = defaultdict(lambda: defaultdict(list))
    section = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep and section, f"{path.name}: cannot read {line!r}"
        sections[section][key.strip()].append(value.strip())
    return sections


def split_command(command: str) -> Tuple[Dict[str, str], List[str]]:
    """(VAR=value assignments in front, the rest), for a Procfile line or an ExecStart through /usr/bin/env."""
    words = shlex.split(command)
    if words and words[0] == "/usr/bin/env":
        words = words[1:]
    env = {}
    while words and "=" in words[0] and not words[0].startswith("/"):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return env, words


def procfile() -> Dict[str, str]:
    lines = [line for line in (DEPLOY / "Procfile").read_text().splitlines() if line.strip() and not line.startswith("#")]
    return dict((part.strip() for part in line.split(":", 1)) for line in lines)


def unit_name(process: str) -> str:
    """rasa_a, rasa_b (the Procfile's copies of one server) share the template triage-rasa@.service."""
    return f"triage-{process.split('_')[0]}@.service" if "_" in process else f"triage-{process}.service"


PROCESSES = procfile()


def only(values: Dict[str, List[str]], key: str) -> str:
    assert len(values.get(key, [])) == 1, f"{key}: {values.get(key)}"
    return values[key][0]


def test_the_procfile_has_the_processes_we_expect():
    assert set(PROCESSES) >= {"actions", "rasa_a", "rasa_b", "staff", "web"}


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_procfile_process_has_a_unit_that_restarts_it_with_the_same_command(process):
    path = UNITS / unit_name(process)
    assert path.exists(), f"no unit for Procfile process {process!r}: expected {path.name}"
    unit = parse_unit(path)
    service = unit["Service"]
    assert only(service, "Restart") == "always"
    assert only(service, "RestartSec") == "1"
    assert only(service, "UMask") == "0077"
    assert {"StartLimitIntervalSec", "StartLimitBurst"} <= set(unit["Unit"])  # gives up on a broken configuration

    proc_env, proc_words = split_command(PROCESSES[process])
    unit_env, unit_words = split_command(only(service, "ExecStart"))
    assert proc_words[0] == ".venv/bin/python" and unit_words[0].endswith("/.venv/bin/python"), (proc_words, unit_words)
    assert unit_words[1:] == proc_words[1:]  # the same module and arguments
    assert unit_words[0] == only(service, "WorkingDirectory") + "/.venv/bin/python"  # the project's own venv
    # The Procfile line's own variables (INSTANCE_NAME, RASA_PORT) are set per unit instance.
    assert set(proc_env) <= set(unit_env), (proc_env, unit_env)
    if "@" in path.name:
        assert "%i" in unit_env["RASA_PORT"] and "%i" in unit_env["INSTANCE_NAME"], unit_env


@pytest.mark.parametrize("path", sorted(UNITS.glob("*.service")), ids=lambda p: p.name)
def test_every_unit_is_hardened_and_writes_only_the_data_folder(path):
    service = parse_unit(path)["Service"]
    assert only(service, "EnvironmentFile").startswith("/etc/")
    assert only(service, "UMask") == "0077"
    assert (only(service, "NoNewPrivileges"), only(service, "ProtectSystem"), only(service, "PrivateTmp")) == ("yes", "strict", "yes")
    env, _ = split_command(only(service, "ExecStart"))
    assert only(service, "ReadWritePaths") == env["TRIAGE_DATA_DIR"]  # the one place it may write
    assert only(service, "User") != "root"


def test_the_target_starts_a_rasa_server_on_each_procfile_port():
    wants = {name for line in parse_unit(UNITS / "triage.target")["Unit"]["Wants"] for name in line.split()}
    expected = {"triage-migrate.service"}
    for process, command in PROCESSES.items():
        env, _ = split_command(command)
        expected.add(unit_name(process).replace("@", "@" + env["RASA_PORT"]) if "@" in unit_name(process) else unit_name(process))
    assert wants == expected
