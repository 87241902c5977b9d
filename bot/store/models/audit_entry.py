"""Who viewed, exported, reviewed or deleted what, and when. Rows are only ever added."""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, String

from .base import Base, utcnow

VIEWED = "viewed"
EXPORTED = "exported"
REVIEWED = "reviewed"
NOTE_ADDED = "note_added"
DELETED = "deleted"
ACTIONS = (VIEWED, EXPORTED, REVIEWED, NOTE_ADDED, DELETED)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)  # a staff name, or "cli:<command>" / "schedule"
    action = Column(String(16), nullable=False)
    target = Column(String(128), nullable=False)  # e.g. "conversation 12", "12 conversations"
    detail = Column(JSON)
