"""Retention: purge transcripts older than the configured number of days, erase one person's data.

Both reach every copy we keep: our tables (and the search index, by trigger), the spools (every
Rasa server's), and Rasa's tracker events. Both delete in short batches, so that the transcript
writer never waits long for the database, and both are audited, also when interrupted.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import sessionmaker

from ..settings import Settings
from .audit import audit
from .database import transaction
from .models import DELETED, Conversation, utcnow
from .records import pseudonym
from .spool import spools_in
from .tracker_events import delete_tracker_events


# Each batch is one short write transaction: a transcript writer waiting for the lock (SQLite has one
# lock for the whole file) waits for one batch at most, never for the whole purge. The batch size
# follows the time a batch takes, to stay near BATCH_TARGET_S whatever the disk and the database.
BATCH_TARGET_S = 0.05
FIRST_BATCH, MIN_BATCH, MAX_BATCH = 20, 5, 5000
# SQLite: after each batch the lock stays free long enough for a waiting writer to find it free.
# Its busy handler looks again after 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and then every 100 ms:
# a writer that has waited up to 128 ms looks at least every 25 ms, one that waited longer every 50
# or 100 ms. So after a write of `took` seconds: sqlite_pause(took).
def sqlite_pause(took: float) -> float:
    return 0.03 if took <= 0.125 else 0.055 if took <= 0.225 else 0.105


# PostgreSQL locks rows, not the database: a writer never waits for another conversation's deletion.
POSTGRES_PAUSE_S = 0.005
# SQLite: the purge's own page cache (the default is 2 MB), so that a batch reads fewer pages again.
SQLITE_CACHE = "PRAGMA cache_size = -65536"
# SQLite: whoever commits when the write-ahead log has grown past 1000 pages copies it into the
# database file, inside their commit; after each batch the purge does it (without the write lock).
SQLITE_CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"


@dataclass(frozen=True)
class Deleted:
    conversations: int
    spooled: int
    tracker_events: int


def delete_in_batches(sessions: sessionmaker, condition) -> int:
    """Deletes the conversations that meet `condition` (messages, decisions and notes go with them by
    ON DELETE CASCADE, their search documents by trigger), a short transaction at a time; returns how many.

    The batches go through the conversations in id order, each from where the last one stopped: old
    conversations have the low ids, so each batch reads pages next to the last one's, and the table is
    read once whatever the number of batches."""
    with sessions() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
    deleted, size, after = 0, FIRST_BATCH, 0
    while True:
        with sessions() as session:  # a read, outside the write transaction
            batch = (select(Conversation.id).where(condition, Conversation.id > after)
                     .order_by(Conversation.id).limit(size).subquery())
            last = session.scalar(select(func.max(batch.c.id)))
        if last is None:
            return deleted
        began = time.monotonic()
        with transaction(sessions) as session:
            if sqlite:
                session.execute(text(SQLITE_CACHE))
            # One statement: the write lock is taken at once (SQLite would refuse to turn a read into a
            # write with "database is locked" if a writer committed in between). The condition is checked again.
            statement = (delete(Conversation).where(condition, Conversation.id > after, Conversation.id <= last)
                         .execution_options(synchronize_session=False))
            deleted += session.execute(statement).rowcount
        after = last
        took = time.monotonic() - began
        if sqlite:  # copy the batch out of the WAL now, so that a writer's commit does not have to
            with sessions() as session:
                session.execute(text(SQLITE_CHECKPOINT))
        if took > BATCH_TARGET_S:
            size = max(MIN_BATCH, size // 2)
        elif took < BATCH_TARGET_S / 2:
            size = min(MAX_BATCH, size * 2)
        time.sleep(sqlite_pause(took) if sqlite else POSTGRES_PAUSE_S)


def purge(sessions: sessionmaker, settings: Settings, days: int, actor: str, now: Optional[dt.datetime] = None) -> Deleted:
    """Deletes conversations whose last message is more than `days` days old, in short batches."""
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    count = spooled = events = 0
    failed = None
    try:
        count = delete_in_batches(sessions, Conversation.last_message_at < cutoff)
        spooled = sum(spool.rewrite(lambda r: r.at_datetime >= cutoff) for spool in spools_in(settings.data_dir))
        events = delete_tracker_events(
            settings.tracker_store_url or settings.tracker_db, before_epoch=cutoff.replace(tzinfo=dt.timezone.utc).timestamp()
        )
    except Exception as error:
        failed = type(error).__name__
        raise
    finally:  # what was deleted is on record, also when a later batch failed
        detail = {"reason": "retention", "cutoff": cutoff.isoformat(timespec="seconds"), "spooled": spooled,
                  "tracker_events": events}
        if failed:
            detail["interrupted_by"] = failed
        with transaction(sessions) as session:
            audit(session, actor, DELETED, f"{count} conversation(s) older than {days} days", **detail)
    return Deleted(count, spooled, events)


def erase(sessions: sessionmaker, settings: Settings, sender_id: str, actor: str, is_pseudonym: bool = False) -> Deleted:
    """Deletes everything kept about one sender (Rasa's sender id, or the pseudonym staff see)."""
    if is_pseudonym:
        sender, raw_id = sender_id, None
    else:
        sender, raw_id = pseudonym(settings.pseudonym_key, sender_id), sender_id
    count = spooled = events = 0
    failed = None
    try:
        count = delete_in_batches(sessions, Conversation.sender == sender)
        spooled = sum(spool.rewrite(lambda r: r.sender != sender) for spool in spools_in(settings.data_dir))
        # Rasa keys its events by the raw id, which only the person (or their channel) can give us.
        tracker = settings.tracker_store_url or settings.tracker_db
        events = delete_tracker_events(tracker, sender_id=raw_id) if raw_id is not None else 0
    except Exception as error:
        failed = type(error).__name__
        raise
    finally:
        detail = {"reason": "erasure", "conversations": count, "spooled": spooled, "tracker_events": events}
        if failed:
            detail["interrupted_by"] = failed
        with transaction(sessions) as session:
            audit(session, actor, DELETED, f"sender {sender[:12]}", **detail)
    return Deleted(count, spooled, events)
