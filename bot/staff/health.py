"""GET /health: whether transcripts reach their database (503 when not). No login: counts only."""
from __future__ import annotations

from flask import Blueprint, jsonify

from ..store.health import transcript_health
from . import context

blueprint = Blueprint("health", __name__)


@blueprint.route("/health")
def health():
    report = transcript_health(context().settings)
    return jsonify(report), 200 if report["ok"] else 503
