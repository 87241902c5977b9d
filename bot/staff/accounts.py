"""Staff accounts: argon2id password hashes, creation from the command line, lock-out."""
from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Optional, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..settings import Settings
from ..store.models import ROLES, StaffUser

MIN_PASSWORD_LENGTH = 12
NAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@functools.lru_cache(maxsize=1)
def _unknown_user_hash() -> str:
    """Checked when the name is unknown, so an unknown name takes as long as a wrong password."""
    return _hasher.hash("an unknown name takes as long as a wrong password")


class AccountError(ValueError):
    """A name, role or password we cannot accept; the message says why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def find_user(session: Session, name: str) -> Optional[StaffUser]:
    return session.scalar(select(StaffUser).where(StaffUser.name == name))


def add_user(session: Session, name: str, role: str, password: str) -> StaffUser:
    if not NAME_PATTERN.match(name):
        raise AccountError("a name is 1 to 64 letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if find_user(session, name) is not None:
        raise AccountError(f"there is already an account named {name!r}")
    user = StaffUser(name=name, role=role, password_hash=hash_password(password), failed_logins=0, session_epoch=0)
    session.add(user)
    return user


def set_password(user: StaffUser, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_epoch += 1  # signs out every session of the old password


def unlock(user: StaffUser) -> None:
    user.failed_logins = 0
    user.locked_until = None


def authenticate(
    session: Session, name: str, password: str, now: dt.datetime, settings: Settings
) -> Tuple[Optional[StaffUser], str]:
    """The user, or None and what to tell the person. Counts failures and locks the account."""
    user = find_user(session, name)
    if user is None:
        _verify(_unknown_user_hash(), password)
        return None, "Wrong name or password."
    if user.locked_until and user.locked_until > now:
        return None, f"Too many failed attempts: this account is locked until {user.locked_until:%H:%M} UTC."
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= settings.staff_max_failed_logins:
            user.locked_until = now + dt.timedelta(minutes=settings.staff_lockout_minutes)
            user.failed_logins = 0
            return None, f"Too many failed attempts: this account is locked until {user.locked_until:%H:%M} UTC."
        return None, "Wrong name or password."
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)  # the parameters were raised since it was set
    unlock(user)
    user.last_login_at = now
    return user, ""


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
