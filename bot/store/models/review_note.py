"""A staff note on a conversation: who wrote it and when."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import Base, utcnow


class ReviewNote(Base):
    __tablename__ = "review_notes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        Integer, ForeignKey("transcript_conversations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author = Column(String(64), nullable=False)  # a name, not a key: notes outlive accounts
    created_at = Column(DateTime, nullable=False, default=utcnow)
    text = Column(Text, nullable=False)

    conversation = relationship("Conversation", back_populates="notes")
