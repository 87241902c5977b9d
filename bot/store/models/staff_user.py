"""A clinic staff account of the review app."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String

from .base import Base, utcnow

REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (REVIEWER, ADMIN)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)  # argon2id, with its parameters and salt
    failed_logins = Column(Integer, nullable=False, default=0)  # consecutive, reset by a good login
    locked_until = Column(DateTime)
    # Part of every session cookie; logging out bumps it, so a copied cookie stops working too.
    session_epoch = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN
