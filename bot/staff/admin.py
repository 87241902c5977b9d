"""Admin-only pages: the audit log and the list of accounts (accounts are made on the command line)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from ..store.models import AuditEntry, StaffUser
from . import context, db, now
from .auth import admin_required
from .queries import paginate

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.route("/audit")
@admin_required
def audit_log():
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    page = paginate(db(), query, request.args.get("page", 1, type=int), context().page_size)
    return render_template("audit.html", page=page, page_args={})


@blueprint.route("/users")
@admin_required
def users():
    accounts = db().scalars(select(StaffUser).order_by(StaffUser.name)).all()
    return render_template("users.html", accounts=accounts, now=now())
