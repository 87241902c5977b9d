"""One message of a transcript, from the person ("user") or the assistant ("bot")."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import Base

USER = "user"
BOT = "bot"


class Message(Base):
    __tablename__ = "transcript_messages"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        Integer, ForeignKey("transcript_conversations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Derived from the Rasa event itself, so writing the same event twice (a replayed spool) is a no-op.
    event_key = Column(String(64), nullable=False, unique=True)
    at = Column(DateTime, nullable=False)
    speaker = Column(String(8), nullable=False)  # USER or BOT
    text = Column(Text, nullable=False, default="")
    intent = Column(String(128))  # user messages: what NLU understood, and how sure it was
    confidence = Column(Float)

    conversation = relationship("Conversation", back_populates="messages")
    decision = relationship("TriageDecision", back_populates="message", uselist=False, cascade="all, delete-orphan")
