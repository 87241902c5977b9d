"""The declarative base shared by our tables; Alembic autogenerates from its metadata."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import MetaData
from sqlalchemy.orm import declarative_base

# Named constraints, so that migrations (and SQLite's batch mode) can address them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def utcnow() -> dt.datetime:
    """Naive UTC: every timestamp in our tables is UTC, the same on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
