"""The Rasa tracker store that also writes transcripts, in the Rasa server process.

endpoints.yml names it (`type: bot.store.tracker_store.TranscriptTrackerStore`). Rasa's own
events still go to Rasa's `events` table of SQLTrackerStore, in the rows Rasa's save writes (TRACKER_DB, a
local SQLite file, or TRACKER_STORE_URL, a database several Rasa servers share; either way apart
from the transcripts, so the dialogue keeps its memory even while the transcript database is down);
each save also turns the new user and bot messages into transcript records and hands them
to the TranscriptWriter, which keeps them durably until the transcript database has them.
Because this runs in the Rasa server, a transcript is complete even when the action server is down.

Between two messages of a conversation the tracker stays in memory (retrieve(), save()), checked
against the table before it is given back, so that a turn does not rebuild the whole session.

A database error never ends the Rasa server: Rasa's ``session_scope`` turns every ValueError raised
inside a session into ``sys.exit`` (it means "PostgreSQL schema missing"), and UnicodeEncodeError is
a ValueError, so one odd sender id stopped every service. Here such an error is an ordinary
``TrackerStoreError``, which Rasa's FailSafeTrackerStore logs and survives (the conversation is
kept in memory for that turn; its transcript records are already in the spool).
"""
from __future__ import annotations

import contextlib
import itertools
import json
import logging
from collections import OrderedDict
from typing import Any, Dict, Generator, Iterator, Optional, Text, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import func, insert

from ..settings import Settings, SettingsError
from .records import pseudonym, transcript_records
from .writer import RETRY_INTERVAL_S, TranscriptWriter

logger = logging.getLogger(__name__)

# Conversations whose tracker stays in memory between two messages (least recently saved first out):
# enough for the conversations a clinic's server has going at once; a tracker of 60 turns is about 1 MB.
CACHED_CONVERSATIONS = 200

# (number of rows, highest row id) of a conversation's latest session in the events table.
StoredKey = Tuple[int, Optional[int]]
# On a tracker given out by retrieve(): how many of its first events the table holds (its latest
# session's rows), so that save() need not count them again. Only read back from the same tracker.
STORED_EVENTS = "_transcript_store_stored_events"


class TrackerStoreError(RuntimeError):
    """A tracker could not be read or written; the server goes on."""


class TranscriptTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Optional[Domain] = None,
        event_broker: Any = None,
        settings: Optional[Settings] = None,
        retry_interval_s: Optional[float] = None,  # 0: no writer thread: each save writes at once (tests)
        **kwargs: Any,
    ) -> None:
        self.settings = settings or Settings.from_env()
        if not self.settings.pseudonym_key:
            # Refuse to start rather than store sender ids in the clear or under a made-up key.
            raise SettingsError(
                "PSEUDONYM_KEY is not set: transcripts store senders under a keyed pseudonym. "
                + ("Set it in the environment (APP_ENV=production never generates secrets)." if self.settings.production
                   else "`make run` creates one in the data folder; set it yourself when starting Rasa directly.")
            )
        # sender id -> (tracker, the rows it was saved as): see retrieve().
        self._cache: "OrderedDict[Text, Tuple[DialogueStateTracker, StoredKey]]" = OrderedDict()
        if self.settings.tracker_store_url:
            # SQLTrackerStore takes a whole SQLAlchemy URL as its host; it then ignores dialect and db.
            kwargs["host"] = self.settings.tracker_store_url
        super().__init__(domain=domain, event_broker=event_broker, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # A commit is one write-ahead log append instead of a rollback journal written, synced and
            # deleted: the event loop waits for it on every message. Kept in the file once set.
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        self.writer = TranscriptWriter(self.settings.transcripts_url, self.settings.transcript_spool)
        if retry_interval_s != 0:
            self.writer.start_writer_thread(retry_interval_s or RETRY_INTERVAL_S)
        waiting = self.writer.spool.count()
        if waiting:
            logger.warning("%d transcript record(s) waiting from an earlier run; writing them now", waiting)
            self.writer.flush()

    @contextlib.contextmanager
    def session_scope(self) -> Generator[Any, None, None]:
        try:
            with super().session_scope() as session:
                yield session
        except SystemExit as stop:  # Rasa's print_error_and_exit, from inside a request
            raise TrackerStoreError("the tracker store refused an operation; see the log above") from stop

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """Rasa's own step of save(): the events not stored yet. Their transcript records go to the
        spool here, durably, before the events are committed. The events already stored are the
        count retrieve() noted on the tracker, or else Rasa's count of the table's rows.
        Right with several Rasa servers only because Rasa saves inside the conversation's lock,
        which the shared lock store makes exclusive."""
        already_stored = getattr(tracker, STORED_EVENTS, None)
        if already_stored is None:  # a tracker retrieve() did not give out: count its stored rows
            already_stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        # Only the new events are written out in full; of the older ones the records need only
        # their kind, time and channel (serialising them all grew with the conversation).
        events = [_record_context(event) for event in itertools.islice(tracker.events, 0, already_stored)]
        events += [event.as_dict() for event in itertools.islice(tracker.events, already_stored, None)]
        sender = pseudonym(self.settings.pseudonym_key, tracker.sender_id)
        self.writer.keep(transcript_records(sender, events, first_new=already_stored))
        return itertools.islice(tracker.events, already_stored, len(tracker.events))

    def _stored_key(self, sender_id: Text) -> StoredKey:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).order_by(None)
            count, highest = query.with_entities(func.count(self.SQLEvent.id), func.max(self.SQLEvent.id)).one()
        return int(count), highest

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session's tracker, as Rasa's retrieve gives it, without rebuilding it from
        every stored event when this process saved it last: rebuilding it was the part of a turn's
        work that grew with the conversation (`python -m bench --only-long`).

        The tracker kept at the last save is given back only if the table still holds exactly the
        rows it was saved as (their number and highest id: another Rasa server's save, an erasure
        or a purge changes them) and it has no event since (a turn that failed after changing it).
        A tracker given out leaves the cache: the caller owns it, and save() puts it back."""
        cached = self._cache.pop(sender_id, None)
        if cached is not None:
            tracker, key = cached
            if len(tracker.events) == key[0] and self._stored_key(sender_id) == key:
                setattr(tracker, STORED_EVENTS, key[0])
                return tracker
        loaded = await self._retrieve(sender_id, fetch_events_from_all_sessions=False)
        if loaded is not None:  # exactly the latest session's rows, as save() would count them
            setattr(loaded, STORED_EVENTS, len(loaded.events))
        return loaded

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """Rasa's own _retrieve, reading only each event's JSON: Rasa builds an ORM object for every
        stored event first, on every message, which was the largest part of a long conversation's
        growing cost (py-spy, the long-conversation point of `python -m bench`)."""
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's SQLTrackerStore.save, with the new events inserted in one statement: Rasa builds an
        ORM object for each and flushes them one by one (the largest part of a save, py-spy at N = 50)."""
        self._cache.pop(tracker.sender_id, None)
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = [_event_row(tracker.sender_id, event) for event in self._additional_events(session, tracker)]
            if rows:
                session.execute(insert(self.SQLEvent.__table__), rows)
            session.commit()
        key = self._stored_key(tracker.sender_id)
        if key[0] != len(tracker.events):  # a new session began in it: a load gives that session only
            if hasattr(tracker, STORED_EVENTS):
                delattr(tracker, STORED_EVENTS)
        else:
            setattr(tracker, STORED_EVENTS, key[0])
            self._cache[tracker.sender_id] = (tracker, key)
            if len(self._cache) > CACHED_CONVERSATIONS:
                self._cache.popitem(last=False)
        # The writer thread copies them to the transcript database: the reply does not wait for it
        # (under load that wait was the largest part of the slowest replies; `make bench`).
        self.writer.request_flush()

    def close(self) -> None:
        self._cache.clear()
        self.writer.close()


def _event_row(sender_id: Text, event: Event) -> Dict[str, Any]:
    """The events table's row for an event, with the columns Rasa's save gives it."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _record_context(event: Event) -> Dict[str, Any]:
    """What transcript_records reads of an event already stored: its kind, time and channel."""
    return {"event": event.type_name, "timestamp": event.timestamp, "input_channel": getattr(event, "input_channel", None)}
