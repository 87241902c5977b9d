"""The reviewer's pages: the conversation list, one transcript, review, notes and exports."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from ..store.audit import audit
from ..store.models import EXPORTED, NOTE_ADDED, REVIEWED, VIEWED, ReviewNote
from . import context, db, now
from .auth import login_required
from .export import FORMATS
from .queries import LEVEL_CHOICES, ConversationFilter, channels, conversation_page, load_conversation, matching_conversations

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
    page = conversation_page(db(), filters, request.args.get("page", 1, type=int), context().page_size)
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
    return render_template("transcript.html", conversation=conversation, back=request.args.get("back", ""))


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


def _download(conversations, fmt: str, filename: str) -> Response:
    render, mimetype = FORMATS[fmt]
    return Response(
        render(conversations),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


@blueprint.route("/conversations/<int:conversation_id>/export.<fmt>")
@login_required
def export_one(conversation_id: int, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    conversation = _conversation_or_404(conversation_id)
    audit(db(), g.user.name, EXPORTED, f"conversation {conversation.id}", format=fmt)
    db().commit()
    return _download([conversation], fmt, f"conversation-{conversation.id}")


@blueprint.route("/conversations/export.<fmt>")
@login_required
def export_filtered(fmt: str):
    if fmt not in FORMATS:
        abort(404)
    filters = ConversationFilter.from_args(request.args)
    conversations = matching_conversations(db(), filters)
    audit(
        db(), g.user.name, EXPORTED, f"{len(conversations)} conversation(s)",
        format=fmt, filters=filters.to_args(), ids=[c.id for c in conversations],
    )
    db().commit()
    return _download(conversations, fmt, "conversations")
