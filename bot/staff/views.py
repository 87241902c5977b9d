"""What every page shares: security headers, error pages, and the transcript-health banner."""
from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from ..store.spool import spools_in
from . import context

ERROR_TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 413: "Too large"}


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    # Transcripts are health information: no copy in any cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(error: HTTPException):
    title = ERROR_TITLES.get(error.code, "Error")
    return render_template("error.html", title=title, code=error.code, description=error.description), error.code


def _transcript_backlog() -> dict:
    """Shown on every page: staff must know when transcripts are not reaching the database."""
    spools = spools_in(context().settings.data_dir)  # every Rasa server's
    return {
        "transcripts_waiting": sum(spool.count() for spool in spools),
        "transcripts_refused": sum(spool.rejected_count() for spool in spools),
    }


def flag_label(rule_id: str) -> str:
    """A red flag's rule id as staff read it: "emergency.bladder_bowel_loss" -> "bladder bowel loss"."""
    return rule_id.split(".", 1)[-1].replace("_", " ")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["flag_label"] = flag_label
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _error_page)
    app.context_processor(_transcript_backlog)
