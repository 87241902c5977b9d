"""A stand-in for a chat platform's API on 127.0.0.1 that records every call the assistant makes."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Tuple
from urllib.parse import parse_qs

Answer = Callable[[str, Dict], Dict]


class FakeAPI:
    """Each POST is recorded as (path, fields) and answered with answer(path, fields) as JSON."""

    def __init__(self, answer: Answer):
        self.calls: List[Tuple[str, Dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    fields = json.loads(body or "{}")
                else:
                    fields = {k: v[0] for k, v in parse_qs(body).items()}
                fake.calls.append((self.path, fields))
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

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
