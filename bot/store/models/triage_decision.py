"""A triage decision the assistant sent, as it sent it (the custom payload of a bot message)."""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from .base import Base


class TriageDecision(Base):
    __tablename__ = "triage_decisions"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        Integer, ForeignKey("transcript_conversations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    message_id = Column(Integer, ForeignKey("transcript_messages.id", ondelete="CASCADE"), nullable=False, unique=True)
    at = Column(DateTime, nullable=False)
    level = Column(String(16), nullable=False)
    rules = Column(JSON, nullable=False, default=list)  # rule ids
    red_flags = Column(JSON, nullable=False, default=list)
    reasons = Column(JSON, nullable=False, default=list)  # [{"rule", "level", "source", "quote"}]
    sources = Column(JSON, nullable=False, default=list)  # the distinct seed documents the reasons cite
    missing = Column(JSON, nullable=False, default=list)
    # [{"concept", "text", "status", "detected_by": ["patterns" | "embedding" | "answer"], "score"}]
    findings = Column(JSON, nullable=True, default=list)
    suspected = Column(JSON, nullable=True, default=list)  # red-flag concepts asked back, not yet confirmed
    rulebook_version = Column(String(64))

    conversation = relationship("Conversation", back_populates="decisions")
    message = relationship("Message", back_populates="decision")
