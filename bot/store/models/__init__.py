"""Our tables. Rasa's own `events` table (the tracker) is Rasa's and is not declared here."""
from .audit_entry import ACTIONS, DELETED, EXPORTED, NOTE_ADDED, REVIEWED, VIEWED, AuditEntry
from .base import Base, utcnow
from .conversation import Conversation
from .message import BOT, USER, Message
from .review_note import ReviewNote
from .staff_user import ADMIN, REVIEWER, ROLES, StaffUser
from .triage_decision import TriageDecision

__all__ = [
    "ACTIONS",
    "ADMIN",
    "AuditEntry",
    "BOT",
    "Base",
    "Conversation",
    "DELETED",
    "EXPORTED",
    "Message",
    "NOTE_ADDED",
    "REVIEWED",
    "REVIEWER",
    "ROLES",
    "ReviewNote",
    "StaffUser",
    "TriageDecision",
    "USER",
    "VIEWED",
    "utcnow",
]
