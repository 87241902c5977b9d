"""Login, logout, session timeout and roles.

The session cookie is signed (STAFF_SECRET_KEY) and holds the user id, the account's session
epoch (bumped at logout and password change, so a copied cookie dies with the session) and
when the person was last seen (idle longer than STAFF_SESSION_MINUTES: signed out).
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Callable, Optional
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, session, url_for

from . import context, csrf, db, now
from ..store.models import StaffUser
from .accounts import authenticate

blueprint = Blueprint("auth", __name__)


def _load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    seen = dt.datetime.fromisoformat(session.get("seen", "1970-01-01T00:00:00"))
    limit = dt.timedelta(minutes=context().settings.staff_session_minutes)
    user = db().get(StaffUser, user_id)
    if user is None or user.session_epoch != session.get("epoch") or now() - seen > limit:
        session.clear()
        flash("Your session ended. Please sign in again.", "info")
        return
    session["seen"] = now().isoformat()
    g.user = user


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable) -> Callable:
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not g.user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: Optional[str]) -> str:
    """Only a path on this site: a login link must not send people elsewhere afterwards."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("conversations.listing")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.user is not None:
            return redirect(url_for("conversations.listing"))
        return render_template("login.html", next=request.args.get("next", ""))
    name = request.form.get("name", "").strip()
    user, problem = authenticate(db(), name, request.form.get("password", ""), now(), context().settings)
    db().commit()  # the failure count and the lock-out are kept whatever happens next
    if user is None:
        flash(problem, "error")
        return render_template("login.html", next=request.form.get("next", ""), name=name), 401
    session.clear()  # a new session at login: nothing from before carries over
    session.permanent = True
    session.update(user_id=user.id, epoch=user.session_epoch, seen=now().isoformat())
    csrf.renew()
    return redirect(_safe_next(request.form.get("next")))


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout():
    g.user.session_epoch += 1
    db().commit()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
