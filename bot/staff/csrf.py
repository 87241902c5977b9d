"""CSRF protection for every POST: a per-session token that each form sends back.

SameSite=Strict cookies already keep other sites' forms from carrying the session; the token
also covers browsers that ignore SameSite.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

FIELD = "csrf_token"
SESSION_KEY = "csrf"


def token() -> str:
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def renew() -> None:
    """A new token after login, so one planted before login is worthless."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)


def _check() -> None:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    sent = request.form.get(FIELD) or request.headers.get("X-CSRF-Token") or ""
    expected = session.get(SESSION_KEY) or ""
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="The form had expired or did not come from this site. Reload the page and try again.")


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = token
