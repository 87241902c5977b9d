"""Retention: purge transcripts older than the configured number of days, erase one person's data.

Both reach every copy we keep: our tables, the spools (every Rasa server's), and Rasa's tracker
events. Both are audited.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from ..settings import Settings
from .audit import audit
from .database import transaction
from .models import DELETED, Conversation, utcnow
from .records import pseudonym
from .spool import spools_in
from .tracker_events import delete_tracker_events


@dataclass(frozen=True)
class Deleted:
    conversations: int
    spooled: int
    tracker_events: int


def purge(sessions: sessionmaker, settings: Settings, days: int, actor: str, now: dt.datetime = None) -> Deleted:
    """Deletes conversations whose last message is more than `days` days old."""
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    with transaction(sessions) as session:
        old = select(Conversation.id).where(Conversation.last_message_at < cutoff)
        count = session.scalar(select(func.count()).select_from(old.subquery()))
        # ON DELETE CASCADE takes the messages, decisions and notes with them.
        session.execute(delete(Conversation).where(Conversation.last_message_at < cutoff))
        spooled = sum(spool.rewrite(lambda r: r.at_datetime >= cutoff) for spool in spools_in(settings.data_dir))
        events = delete_tracker_events(
            settings.tracker_store_url or settings.tracker_db, before_epoch=cutoff.replace(tzinfo=dt.timezone.utc).timestamp()
        )
        audit(
            session, actor, DELETED, f"{count} conversation(s) older than {days} days",
            reason="retention", cutoff=cutoff.isoformat(timespec="seconds"), spooled=spooled, tracker_events=events,
        )
    return Deleted(count, spooled, events)


def erase(sessions: sessionmaker, settings: Settings, sender_id: str, actor: str, is_pseudonym: bool = False) -> Deleted:
    """Deletes everything kept about one sender (Rasa's sender id, or the pseudonym staff see)."""
    if is_pseudonym:
        sender, raw_id = sender_id, None
    else:
        sender, raw_id = pseudonym(settings.pseudonym_key, sender_id), sender_id
    with transaction(sessions) as session:
        count = session.scalar(select(func.count()).select_from(Conversation).where(Conversation.sender == sender))
        session.execute(delete(Conversation).where(Conversation.sender == sender))
        spooled = sum(spool.rewrite(lambda r: r.sender != sender) for spool in spools_in(settings.data_dir))
        # Rasa keys its events by the raw id, which only the person (or their channel) can give us.
        tracker = settings.tracker_store_url or settings.tracker_db
        events = delete_tracker_events(tracker, sender_id=raw_id) if raw_id is not None else 0
        audit(
            session, actor, DELETED, f"sender {sender[:12]}",
            reason="erasure", conversations=count, spooled=spooled, tracker_events=events,
        )
    return Deleted(count, spooled, events)
