"""Deletes from Rasa's own `events` table (TRACKER_DB), so purges and erasures reach it too.

The table belongs to Rasa; we only delete rows, by sender id or by age, and never change it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from sqlalchemy import text

from .database import make_engine


def delete_tracker_events(tracker_db: Path, sender_id: Optional[str] = None, before_epoch: Optional[float] = None) -> int:
    if not Path(tracker_db).exists():
        return 0
    conditions, parameters = [], {}
    if sender_id is not None:
        conditions.append("sender_id = :sender_id")
        parameters["sender_id"] = sender_id
    if before_epoch is not None:
        conditions.append("timestamp < :before")
        parameters["before"] = before_epoch
    if not conditions:
        raise ValueError("refusing to delete every tracker event: give a sender id or a cut-off")
    engine = make_engine(f"sqlite:///{Path(tracker_db).resolve()}")
    try:
        with engine.begin() as connection:
            if not connection.execute(text("SELECT name FROM sqlite_master WHERE name = 'events'")).first():
                return 0
            return connection.execute(text("DELETE FROM events WHERE " + " AND ".join(conditions)), parameters).rowcount
    finally:
        engine.dispose()
