"""The staff review app: a server-rendered Flask app, made by `create_app(settings)`.

auth.py (login, logout, session timeout, lock-out, roles), csrf.py, accounts.py (passwords),
conversations.py (list, transcript, review, notes, export), admin.py (audit log, accounts),
queries.py (filters, what exports read), pages.py (keyset pages of the list), search.py (the search
box on the full-text index) with stemmer.py, export.py (streamed JSON, JSON Lines and CSV),
templates/ (all extend base.html).
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Callable, Optional

from flask import Flask, g
from sqlalchemy.orm import Session, sessionmaker

from ..local_secrets import production_secrets_error
from ..settings import Settings
from ..store.database import make_engine, make_session_factory
from ..store.models import utcnow

PAGE_SIZE = 25


class StaffConfigError(RuntimeError):
    """The app cannot run safely with this configuration."""


@dataclass
class StaffContext:
    settings: Settings
    sessions: sessionmaker
    clock: Callable[[], dt.datetime]  # naive UTC; tests pass their own to move time on
    page_size: int


def create_app(
    settings: Settings,
    testing: bool = False,
    clock: Optional[Callable[[], dt.datetime]] = None,
    page_size: int = PAGE_SIZE,
) -> Flask:
    problem = production_secrets_error(settings)
    if problem:  # also with testing=True: production never signs sessions with a throwaway key
        raise StaffConfigError(problem)
    if not settings.staff_secret_key and not testing:
        raise StaffConfigError(
            "STAFF_SECRET_KEY is not set: the staff app signs its sessions with it and has no default. "
            "`make run` creates one in the data folder; set it yourself when running the app on its own."
        )
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.staff_secret_key or secrets.token_hex(32),  # testing only: a key per app
        TESTING=testing,
        SESSION_COOKIE_NAME="triage_staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # Secure: the browser sends the cookie over HTTPS only (production, or STAFF_SECURE_COOKIES
        # behind an HTTPS proxy). Off by default because `make run` serves plain HTTP on loopback.
        SESSION_COOKIE_SECURE=settings.staff_secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.staff_session_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=64 * 1024,  # forms only: a note, a login
    )
    app.jinja_env.autoescape = True  # also for templates not named .html: everything users wrote is text
    engine = make_engine(settings.transcripts_url)
    app.extensions["staff"] = StaffContext(settings, make_session_factory(engine), clock or utcnow, page_size)

    # Imported here, not at the top: each of these imports `context` and `db` from this module.
    from . import admin, auth, conversations, csrf, dashboard, health, views

    csrf.init_app(app)
    auth.init_app(app)
    views.init_app(app)
    for blueprint in (auth.blueprint, conversations.blueprint, dashboard.blueprint, admin.blueprint, health.blueprint):
        app.register_blueprint(blueprint)

    @app.teardown_appcontext
    def close_database_session(_error) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    return app


def context() -> StaffContext:
    from flask import current_app

    return current_app.extensions["staff"]


def db() -> Session:
    """The request's database session, opened on first use and closed when the request ends."""
    if "db" not in g:
        g.db = context().sessions()
    return g.db


def now() -> dt.datetime:
    return context().clock()
