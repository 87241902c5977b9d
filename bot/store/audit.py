"""The audit log: one row per view, export, review, note or deletion, in the caller's transaction."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEntry


def audit(session: Session, actor: str, action: str, target: str, **detail: Any) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, target=target, detail=detail or None)
    session.add(entry)
    return entry
