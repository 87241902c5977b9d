"""Serves the widget page, the rasa-webchat bundle and our widget script from 127.0.0.1.

Nothing comes from a CDN: the bundle is the one `npm ci` installed into bot/web/node_modules
(`make web`). Its stylesheet imports the Inter font from Google; that one line is taken out
when the bundle is loaded, so the page makes no request outside our own servers (its
Content-Security-Policy also allows none).
"""
from __future__ import annotations

import logging
import re
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Tuple

from ..settings import Settings

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "node_modules" / "rasa-webchat" / "lib" / "index.js"
STATIC = HERE / "static"
OUTSIDE_FONTS = re.compile(r"@import url\(https?://[^)]*\);")


class WidgetNotInstalled(RuntimeError):
    pass


def local_bundle(path: Path = BUNDLE) -> bytes:
    """The rasa-webchat bundle without its outside font import."""
    if not path.exists():
        raise WidgetNotInstalled(f"{path} is missing: run `make web` (npm ci in bot/web)")
    return OUTSIDE_FONTS.sub("", path.read_text(encoding="utf-8")).encode("utf-8")


def content_security_policy(settings: Settings) -> str:
    rasa = settings.rasa_url
    socket = rasa.replace("http://", "ws://", 1)
    # The bundle injects its stylesheet as <style> elements, hence 'unsafe-inline' for styles only.
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"connect-src {rasa} {socket}; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def pages(settings: Settings) -> Dict[str, Tuple[str, bytes]]:
    """Path -> (content type, body), all built once at start-up."""
    index = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{RASA_URL}}", settings.rasa_url)
    return {
        "/": ("text/html; charset=utf-8", index.encode("utf-8")),
        "/webchat.js": ("application/javascript; charset=utf-8", local_bundle()),
        "/widget.js": ("application/javascript; charset=utf-8", (STATIC / "widget.js").read_bytes()),
        "/widget.css": ("text/css; charset=utf-8", (STATIC / "widget.css").read_bytes()),
        "/health": ("application/json", b'{"ok": true}'),
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "triage-web"
    sys_version = ""

    def __init__(self, *args, routes: Dict[str, Tuple[str, bytes]], csp: str, **kwargs):
        self.routes, self.csp = routes, csp
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404)
            return
        content_type, body = route
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        # widget.js and webchat.js may be embedded by a clinic's page on another origin.
        self.send_header("Cross-Origin-Resource-Policy", "cross-origin")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
        logger.info("%s %s", self.address_string(), format % args)


def make_server(settings: Settings) -> ThreadingHTTPServer:
    handler = partial(Handler, routes=pages(settings), csp=content_security_policy(settings))
    return ThreadingHTTPServer((settings.web_host, settings.web_port), handler)


def serve(settings: Settings) -> int:
    try:
        server = make_server(settings)
    except WidgetNotInstalled as error:
        logger.error("%s", error)
        return 2
    logger.info("widget page on %s, talking to %s", settings.web_url, settings.rasa_url)
    server.serve_forever()
    return 0
