"""One conversation: one Rasa session of one (pseudonymous) sender."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import relationship

from .base import Base


class Conversation(Base):
    __tablename__ = "transcript_conversations"
    __table_args__ = (
        UniqueConstraint("sender", "session_key", name="uq_transcript_conversations_session"),
        # The list order (bot/staff/pages.py): unreviewed emergencies newest first, then everything newest first.
        Index(
            "ix_transcript_conversations_to_review", "started_at", "id",
            sqlite_where=text("emergency = 1 AND reviewed_at IS NULL"),
            postgresql_where=text("emergency AND reviewed_at IS NULL"),
        ),
        Index("ix_transcript_conversations_newest", "started_at", "id"),
        # The same order within one level or one channel; the channel index also lists the channels.
        Index("ix_transcript_conversations_level_newest", "triage_level", "started_at", "id"),
        Index("ix_transcript_conversations_channel_newest", "channel", "started_at", "id"),
    )

    id = Column(Integer, primary_key=True)
    sender = Column(String(64), nullable=False, index=True)  # HMAC of Rasa's sender id, never the id itself
    session_key = Column(String(32), nullable=False)  # when Rasa started the session, as a fixed-format number
    channel = Column(String(64))
    started_at = Column(DateTime, nullable=False, index=True)
    last_message_at = Column(DateTime, nullable=False, index=True)  # the purge reads by it
    triage_level = Column(String(16), index=True)  # the most urgent level decided in the conversation
    emergency = Column(Boolean, nullable=False, default=False, index=True)
    red_flags = Column(JSON, nullable=False, default=list)
    # The symptom picture of the latest triage decision: [{"question", "concept", "text"}] (revision 0005).
    summary = Column(JSON)
    reviewed_at = Column(DateTime)
    reviewed_by = Column(String(64))

    messages = relationship(
        "Message", back_populates="conversation", order_by="(Message.at, Message.id)", cascade="all, delete-orphan"
    )
    decisions = relationship(
        "TriageDecision", back_populates="conversation", order_by="TriageDecision.id", cascade="all, delete-orphan"
    )
    notes = relationship(
        "ReviewNote", back_populates="conversation", order_by="ReviewNote.id", cascade="all, delete-orphan"
    )

    @property
    def needs_review(self) -> bool:
        return self.reviewed_at is None
