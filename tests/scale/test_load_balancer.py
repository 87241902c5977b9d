"""deploy/nginx.conf in front of the two Rasa servers: Debian's nginx, run with the example file
(only its ports and file paths changed), on loopback."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import List, Optional

import pytest

from devtools.devservers import free_port
from bot.processes import answers as _answers
from bot.settings import PROJECT_ROOT, Settings

from ..e2e.test_channel_parity import WidgetClient, rest_as_widget_sees_it
from .conftest import require_program
from .test_two_instances import SCRIPT, assert_transcript_matches_events, say, without_recipient

EXAMPLE = PROJECT_ROOT / "deploy" / "nginx.conf"


class Balancer:
    def __init__(self, folder: Path, first: int, second: int):
        self.port, self.folder = free_port(), folder
        self.access_log = folder / "access.log"
        config = EXAMPLE.read_text(encoding="utf-8")
        for old, new in [
            ("listen 127.0.0.1:5005;", f"listen 127.0.0.1:{self.port};"),
            ("127.0.0.1:5006", f"127.0.0.1:{first}"),
            ("127.0.0.1:5007", f"127.0.0.1:{second}"),
            ("pid /tmp/triage-nginx.pid;", f"pid {folder / 'nginx.pid'};"),
            ("access_log off;", f"log_format upstream '$request_uri $upstream_addr';\n"
                                f"    access_log {self.access_log} upstream;\n"
                                f"    client_body_temp_path {folder / 'body'};\n    proxy_temp_path {folder / 'proxy'};"),
        ]:
            assert old in config, f"deploy/nginx.conf no longer has {old!r}"
            config = config.replace(old, new)
        (folder / "nginx.conf").write_text(config, encoding="utf-8")

    def start(self, program: str) -> "Balancer":
        command = [program, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
                   "-e", str(self.folder / "error.log"), "-g", "daemon off;"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 30
        while not _answers(self.url + "/"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("nginx did not start: " + (self.folder / "error.log").read_text(errors="replace"))
            time.sleep(0.2)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def upstreams(self, path_start: str) -> set:
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return {line.split(" ", 1)[1] for line in lines if line.startswith(path_start)}

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)


class WebSocketWidget(WidgetClient):
    """The widget's client, with only our Origin header on the WebSocket: websocket-client would add its
    own (the server's address), which the Rasa server rightly refuses, and the upgrade would not happen."""

    def __init__(self, settings: Settings, origin: Optional[str] = None, transports: Optional[List[str]] = None):
        import socketio

        self.received, self.changed, self.session_id = [], threading.Condition(), None
        self.client = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
        self.client.on("session_confirm", self._confirmed)
        self.client.on("bot_uttered", self._uttered)
        self.client.connect(settings.rasa_url, headers={"Origin": origin or settings.web_url},
                            socketio_path="/socket.io/", transports=transports)


@pytest.fixture(scope="module")
def balancer(cluster, tmp_path_factory):
    program = require_program("nginx", "nginx-light")
    first, second = (server.rasa_port for server in cluster.servers)
    running = Balancer(tmp_path_factory.mktemp("nginx"), first, second).start(program)
    yield running
    running.stop()


def test_a_conversation_through_the_balancer_is_shared_by_both_servers(cluster, balancer):
    sender, reference = f"balanced-{uuid.uuid4().hex[:8]}", f"reference-{uuid.uuid4().hex[:8]}"
    through = [say(balancer.url, sender, words) for words in SCRIPT]
    direct = [say(cluster.urls[0], reference, words) for words in SCRIPT]
    assert without_recipient(through) == without_recipient(direct)
    ports = {server.rasa_port for server in cluster.servers}
    used = {int(address.rsplit(":", 1)[1]) for address in balancer.upstreams("/webhooks/rest/")}
    assert used == ports  # round-robin: both servers took turns of the one conversation
    assert_transcript_matches_events(cluster, sender)


def test_the_widget_connects_through_the_balancer_over_a_websocket(cluster, balancer):
    texts, reference = SCRIPT[:2], f"widget-reference-{uuid.uuid4().hex[:8]}"
    expected = rest_as_widget_sees_it([m for words in texts for m in say(cluster.urls[0], reference, words)])
    widget = WebSocketWidget(replace(cluster.base, rasa_port=balancer.port))  # Origin: the widget page's
    try:
        received = widget.converse(texts, len(expected))
        assert widget.client.transport() == "websocket"  # upgraded through the balancer
    finally:
        widget.close()
    assert [m["text"] if "text" in m else m["custom"] for m in received] == expected
    assert len(balancer.upstreams("/socket.io/")) == 1  # sticky: every request of the session to one server


def test_the_balancer_passes_the_origin_on_so_other_sites_are_still_refused(cluster, balancer):
    import socketio

    with pytest.raises(socketio.exceptions.ConnectionError):
        WebSocketWidget(replace(cluster.base, rasa_port=balancer.port), origin="https://elsewhere.example",
                        transports=["websocket"])
