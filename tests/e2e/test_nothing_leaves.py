"""Nothing leaves the machine: Rasa's telemetry and error reporting are off in every process we start,
even when the person's own environment and Rasa's global config ask for them, and a real
conversation opens no connection to anything but loopback.

How connections are seen: every child runs with a sitecustomize.py that records each
socket.connect and socket.getaddrinfo through Python's audit hooks (that is how Rasa's Segment
telemetry and Sentry, both on requests/urllib3, would reach out), and at the end of the
conversation the test lists every socket the children hold from /proc. Traffic made inside
uvloop's C code (Rasa's calls to the action server) raises no audit event; the /proc listing
still sees its sockets while they are open.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.serve import Assistant, rasa_env
from bot.settings import PROJECT_ROOT, Settings

from .test_rest_conversation import MODEL, free_port, new_sender, say, triage_of

SITECUSTOMIZE = '''
import json, os, sys

_LOG = os.environ.get("TRIAGE_EGRESS_LOG")


def _record(event, args):
    if event == "socket.connect":
        entry = {"event": event, "address": repr(args[1])}
    elif event == "socket.getaddrinfo":
        entry = {"event": event, "host": repr(args[0])}
    else:
        return
    entry["pid"] = os.getpid()
    line = (json.dumps(entry) + "\\n").encode()
    descriptor = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


if _LOG:
    sys.addaudithook(_record)
'''
LOOPBACK_NAMES = {"localhost", "None", "''", "b'localhost'"}


def is_local(text: str) -> bool:
    """An address (or host) as recorded: loopback, unspecified, or a Unix socket path."""
    match = re.match(r"^\(?'([^']*)'", text)  # ('127.0.0.1', 5055) or ('::1', 5005, 0, 0)
    if text in LOOPBACK_NAMES or text.startswith("'/") or text.startswith("b'/"):
        return True
    host = match.group(1) if match else text.strip("'")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def tree(pid: int):
    """The process and all its descendants."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.extend(tree(int(child)))
    return found


def environ(pid: int) -> dict:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def remote_addresses(pids):
    """Remote address of every TCP socket the processes hold, read from /proc (IPv4 and IPv6)."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    remotes = []
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                remote_hex = fields[2].split(":")[0]
                raw = bytes.fromhex(remote_hex)
                # /proc prints each 32-bit word in host (little-endian) order.
                ordered = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))
                address = ipaddress.ip_address(ordered)
                if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                    address = address.ipv4_mapped
                remotes.append(address)
    return remotes


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    """The whole assistant (Rasa, actions, staff app, widget page) started by a person who asked for telemetry."""
    if not MODEL.exists():
        pytest.skip("needs a trained model: run `make train` (make test does)")
    root = tmp_path_factory.mktemp("egress")
    hooks = root / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    home = root / "home"
    (home / ".config" / "rasa").mkdir(parents=True)
    (home / ".config" / "rasa" / "global.yml").write_text(
        "metrics:\n  enabled: true\n  rasa_user_id: 0123456789abcdef0123456789abcdef\n  date: 2024-01-01 00:00:00\n")
    log = root / "egress.jsonl"
    data_dir = root / "data"
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), staff_port=free_port(), web_port=free_port(),
        data_dir=data_dir, tracker_db=data_dir / "tracker.db", model_path=MODEL,
    )
    with pytest.MonkeyPatch.context() as patch:
        # The person's own environment asks for telemetry; rasa_env must override it.
        patch.setenv("RASA_TELEMETRY_ENABLED", "true")
        patch.setenv("HOME", str(home))
        patch.setenv("PYTHONPATH", str(hooks))
        patch.setenv("TRIAGE_EGRESS_LOG", str(log))
        with Assistant(settings, quiet=True, staff=True, web=True) as running:
            yield running, log, home


def test_rasa_env_turns_telemetry_off_whatever_the_environment_says(tmp_path):
    for asked in ({}, {"RASA_TELEMETRY_ENABLED": "true"}, {"RASA_TELEMETRY_ENABLED": "TRUE"}):
        assert rasa_env(Settings.from_env({"TRIAGE_DATA_DIR": str(tmp_path)}), base=asked)["RASA_TELEMETRY_ENABLED"] == "false"


def test_with_telemetry_off_rasa_never_starts_its_error_reporting(monkeypatch, tmp_path):
    import rasa.constants
    import rasa.telemetry
    import sentry_sdk

    monkeypatch.setattr(rasa.constants, "GLOBAL_USER_CONFIG_PATH", str(tmp_path / "global.yml"))
    (tmp_path / "global.yml").write_text("metrics:\n  enabled: true\n  rasa_user_id: x\n  date: 2024-01-01\n")
    for name, value in rasa_env(Settings.from_env({"TRIAGE_DATA_DIR": str(tmp_path)}), base={}).items():
        if name.startswith("RASA_"):
            monkeypatch.setenv(name, value)
    assert rasa.telemetry.sentry_write_key()  # the installed Rasa does carry a key: this test matters
    assert not rasa.telemetry.initialize_telemetry()
    rasa.telemetry.initialize_error_reporting()
    assert sentry_sdk.Hub.current.client is None


def test_the_hook_sees_a_connection(tmp_path):
    """The recorder itself works: a connection made in a child is written down."""
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "log.jsonl"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        subprocess.run([sys.executable, "-c", f"import socket; socket.create_connection(('127.0.0.1', {port})).close()"],
                       env={**os.environ, "PYTHONPATH": str(tmp_path), "TRIAGE_EGRESS_LOG": str(log)}, check=True, timeout=60)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(e["event"] == "socket.connect" and f"'127.0.0.1', {port}" in e["address"] for e in events)


def test_every_child_runs_with_telemetry_off(watched):
    assistant, _log, _home = watched
    pids = [pid for process in assistant.processes.values() for pid in tree(process.pid)]
    assert len(pids) >= 4
    for pid in pids:
        assert environ(pid)["RASA_TELEMETRY_ENABLED"] == "false", pid


def test_rasa_says_telemetry_is_disabled_with_our_environment(watched):
    _assistant, _log, home = watched
    done = subprocess.run([sys.executable, "-m", "bot.serve", "rasa", "telemetry"], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "HOME": str(home), "RASA_TELEMETRY_ENABLED": "true"})
    assert done.returncode == 0
    assert "Telemetry reporting is currently disabled" in done.stdout


def test_a_conversation_connects_to_nothing_but_loopback(watched):
    assistant, log, _home = watched
    sender = new_sender()
    say(assistant, sender, "hello")
    replies = say(assistant, sender, "my left foot has been numb for three weeks and I'm diabetic")
    assert triage_of(replies)["level"] == "doctor"  # the action server was reached and answered
    pids = [pid for process in assistant.processes.values() for pid in tree(process.pid)]
    remotes = remote_addresses(pids)
    assert remotes, "the children hold no TCP socket at all: the /proc reading is broken"
    assert all(address.is_loopback or address.is_unspecified for address in remotes), remotes
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    # The recorder ran in the children: waitress (the staff app) looks up its own address at start.
    assert any(e["event"] == "socket.getaddrinfo" for e in events)
    outside = [e for e in events if not is_local(e.get("address", e.get("host", "")))]
    assert outside == []
