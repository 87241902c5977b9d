"""A stand-in for a chat platform's API on 127.0.0.1 that records every call the assistant makes."""
from __future__ import annotations

import json
import threading
import time

import pytest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Tuple
from urllib.parse import parse_qs

Answer = Callable[[str, Dict], Dict]


class FakeAPI:
    """Each POST is recorded as (path, fields) and answered with answer(path, fields) as JSON."""

    def __init__(self, answer: Answer):
        self.calls: List[Tuple[str, Dict]] = []
        self.changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    fields = json.loads(body or "{}")
                else:
                    fields = {k: v[0] for k, v in parse_qs(body).items()}
                with fake.changed:
                    fake.calls.append((self.path, fields))
                    fake.changed.notify_all()
                reply = json.dumps(answer(self.path, fields)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def calls_to(self, method: str) -> List[Dict]:
        return [fields for path, fields in self.calls if path.rsplit("/", 1)[-1].lower() == method.lower()]

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
        """For channels that answer in the background (Slack): until condition() holds, or fail."""
        with self.changed:
            assert self.changed.wait_for(condition, timeout=timeout), f"the fake API never got {what}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def eventually(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Polls for what another process writes (a transcript after a background answer), or fails."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


def api_fixture(answer: Answer):
    """A module-scoped fixture: a FakeAPI answering with answer, closed after the module."""

    @pytest.fixture(scope="module")
    def api():
        fake = FakeAPI(answer)
        yield fake
        fake.close()

    return api
