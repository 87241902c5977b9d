"""Deletes from Rasa's own `events` table (TRACKER_DB or TRACKER_STORE_URL), so purges and erasures reach it too.

The table belongs to Rasa; we only delete rows, by sender id or by age, and never change it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Union

from sqlalchemy import inspect, text

from .database import make_engine


def delete_tracker_events(
    tracker_db: Union[Path, str], sender_id: Optional[str] = None, before_epoch: Optional[float] = None
) -> int:
    """`tracker_db`: the SQLite file (TRACKER_DB), or the URL of the database Rasa servers share (TRACKER_STORE_URL)."""
    if isinstance(tracker_db, str) and "://" in tracker_db:
        url = tracker_db
    elif Path(tracker_db).exists():
        url = f"sqlite:///{Path(tracker_db).resolve()}"
    else:
        return 0
    conditions: List[str] = []
    parameters: Dict[str, object] = {}
    if sender_id is not None:
        conditions.append("sender_id = :sender_id")
        parameters["sender_id"] = sender_id
    if before_epoch is not None:
        conditions.append("timestamp < :before")
        parameters["before"] = before_epoch
    if not conditions:
        raise ValueError("refusing to delete every tracker event: give a sender id or a cut-off")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table("events"):
                return 0
            return connection.execute(text("DELETE FROM events WHERE " + " AND ".join(conditions)), parameters).rowcount
    finally:
        engine.dispose()
