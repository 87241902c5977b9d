"""The reviewer's pages: the conversation list, one transcript, review, notes and exports."""
from __future__ import annotations

import logging
from typing import Any, Dict, Iterator, Optional, Sequence

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from ..store.audit import audit
from ..store.database import transaction
from ..store.models import EXPORTED, NOTE_ADDED, REVIEWED, VIEWED, ReviewNote
from . import context, db, now
from .auth import login_required
from .export import EXTENSIONS, MIMETYPES, ExportTally, export_chunks
from .queries import LEVEL_CHOICES, ConversationFilter, channels, conversation_page, load_conversation
from .summary import summary_items

logger = logging.getLogger(__name__)

blueprint = Blueprint("conversations", __name__)
MAX_NOTE_LENGTH = 4000


@blueprint.route("/")
@login_required
def index():
    return redirect(url_for("conversations.listing"))


@blueprint.route("/conversations")
@login_required
def listing():
    filters = ConversationFilter.from_args(request.args)
    for problem in filters.problems:
        flash(f"Filter ignored: {problem}.", "error")
    page = conversation_page(
        db(), filters, context().page_size, number=request.args.get("page", 1, type=int),
        after=request.args.get("after"), before=request.args.get("before"), last=bool(request.args.get("last")),
    )
    return render_template(
        "conversations.html",
        page=page,
        filters=filters,
        filter_args=filters.to_args(),
        levels=LEVEL_CHOICES,
        channels=channels(db()),
    )


def _conversation_or_404(conversation_id: int):
    conversation = load_conversation(db(), conversation_id)
    if conversation is None:
        abort(404, description="There is no such conversation; it may have been purged or erased.")
    return conversation


@blueprint.route("/conversations/<int:conversation_id>")
@login_required
def transcript(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    audit(db(), g.user.name, VIEWED, f"conversation {conversation.id}")
    db().commit()
    summary = summary_items(conversation.summary, conversation.messages)
    return render_template("transcript.html", conversation=conversation, summary=summary, back=request.args.get("back", ""))


@blueprint.route("/conversations/<int:conversation_id>/review", methods=["POST"])
@login_required
def review(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    if conversation.reviewed_at is None:
        conversation.reviewed_at = now()
        conversation.reviewed_by = g.user.name
        audit(db(), g.user.name, REVIEWED, f"conversation {conversation.id}", level=conversation.triage_level)
        db().commit()
        flash("Marked as reviewed.", "info")
    return redirect(url_for("conversations.transcript", conversation_id=conversation.id))


@blueprint.route("/conversations/<int:conversation_id>/notes", methods=["POST"])
@login_required
def add_note(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    text = request.form.get("text", "").strip()
    if not text or len(text) > MAX_NOTE_LENGTH:
        flash(f"A note needs some text, at most {MAX_NOTE_LENGTH} characters.", "error")
    else:
        db().add(ReviewNote(conversation=conversation, author=g.user.name, created_at=now(), text=text))
        audit(db(), g.user.name, NOTE_ADDED, f"conversation {conversation.id}")
        db().commit()
        flash("Note added.", "info")
    return redirect(url_for("conversations.transcript", conversation_id=conversation.id) + "#notes")


def _download(fmt: str, filename: str, target: Optional[str], filters: Optional[ConversationFilter] = None,
              ids: Optional[Sequence[int]] = None, detail: Optional[Dict[str, Any]] = None) -> Response:
    """Streams the export while reading it; the audit entry is written when the stream ends (or is cut off)."""
    mimetype = MIMETYPES[fmt]
    sessions, actor = context().sessions, g.user.name

    def stream() -> Iterator[str]:
        tally, complete = ExportTally(), False
        try:
            yield from export_chunks(fmt, sessions, filters, ids, tally)
            complete = True
        finally:  # also when the download is cancelled: what was sent is on record
            entry: Dict[str, Any] = {"format": fmt, **(detail or {}), **tally.detail()}
            if not complete:
                entry["complete"] = False
            try:
                with transaction(sessions) as session:
                    audit(session, actor, EXPORTED, target or f"{tally.count} conversation(s)", **entry)
            except Exception:
                logger.exception("could not write the audit entry of an export")
                raise

    return Response(
        stream(),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{EXTENSIONS.get(fmt, fmt)}"'},
    )


@blueprint.route("/conversations/<int:conversation_id>/export.<fmt>")
@login_required
def export_one(conversation_id: int, fmt: str):
    if fmt not in MIMETYPES:
        abort(404)
    conversation = _conversation_or_404(conversation_id)
    return _download(fmt, f"conversation-{conversation.id}", f"conversation {conversation.id}", ids=[conversation.id])


@blueprint.route("/conversations/export.<fmt>")
@login_required
def export_filtered(fmt: str):
    if fmt not in MIMETYPES:
        abort(404)
    filters = ConversationFilter.from_args(request.args)
    return _download(fmt, "conversations", None, filters=filters, detail={"filters": filters.to_args()})
