"""Writes transcript records to the database through the spool, and knows whether it can.

Every record goes to the spool (a durable file) first, then the spool is drained into the
database. When the database is unavailable the records stay in the spool, the failure is
logged as an error and recorded in a status file that health checks read, and a background
thread keeps retrying until the database is back.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path
from typing import List, Optional

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from .database import make_engine, make_session_factory, transaction
from .records import TranscriptRecord
from .spool import Spool
from .transcripts import store_records

logger = logging.getLogger(__name__)

# Errors that mean "the database is not there" (gone, down, locked, or not migrated yet):
# keep everything and retry. Any other error is about some record in the batch.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)
RETRY_INTERVAL_S = 10.0
BATCH_WAIT_S = 0.05  # how long a flush asked for waits for more records (staff see a message this much later)
OK = "ok"
DOWN = "unavailable"


def status_path_for(spool_path: Path) -> Path:
    return Path(spool_path).with_name("transcripts-status.json")


def describe(error: BaseException) -> str:
    """The error without the SQL and without any parameter (message texts stay out of logs)."""
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}"[:300]


class TranscriptWriter:
    def __init__(self, database_url: str, spool_path: Path):
        self.database_url = database_url
        self.spool = Spool(spool_path)
        self.status_path = status_path_for(spool_path)
        self.state: Optional[str] = None  # unknown until the first attempt
        self._lock = threading.Lock()  # the writer thread, and the flushes at start-up and close
        self._engine = None
        self._sessions = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._retrier: Optional[threading.Thread] = None

    def _session_factory(self):
        if self._sessions is None:  # on first use, never at import or construction
            self._engine = make_engine(self.database_url)
            self._sessions = make_session_factory(self._engine)
        return self._sessions

    def keep(self, records: List[TranscriptRecord]) -> None:
        """Durably, before anything else can fail; `flush` then copies them to the database."""
        if records:
            self.spool.append(records)

    def flush(self) -> bool:
        """Drains the spool into the database. True when nothing is left waiting."""
        with self._lock:
            try:
                written = self.spool.drain(self._store_all)
            except UNAVAILABLE as error:
                self._unavailable(error)
                return False
            self._available(written)
            return True

    def _store_all(self, records: List[TranscriptRecord]) -> None:
        try:
            with transaction(self._session_factory()) as session:
                store_records(session, records)
        except UNAVAILABLE:
            raise
        except Exception:  # anything else is about some record: find it, write the others
            self._store_each(records)

    def _store_each(self, records: List[TranscriptRecord]) -> None:
        for record in records:
            try:
                with transaction(self._session_factory()) as session:
                    store_records(session, [record])
            except UNAVAILABLE:
                raise
            except Exception as error:  # set aside, logged and reported by the health check: never dropped
                logger.error(
                    "transcript record refused by the database, kept in %s: %s", self.spool.rejected_path, describe(error)
                )
                self.spool.reject([json.dumps(record.to_json())])

    def _unavailable(self, error: BaseException) -> None:
        waiting = self.spool.count()
        if self.state != DOWN:
            logger.error(
                "transcript database unavailable; %d record(s) kept in %s and written when it is back: %s",
                waiting, self.spool.path, describe(error),
            )
            self._set_state(DOWN, describe(error))
        else:
            logger.warning("transcript database still unavailable; %d record(s) waiting", waiting)

    def _available(self, written: int) -> None:
        if self.state == DOWN:
            logger.warning("transcript database is back; %d waiting record(s) written", written)
        if self.state != OK:
            self._set_state(OK, None)

    def _set_state(self, state: str, error: Optional[str]) -> None:
        self.state = state
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        status = {"database": state, "since": now, "error": error}
        temporary = self.status_path.with_name(self.status_path.name + ".tmp")
        self.status_path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(status), encoding="utf-8")
        os.replace(temporary, self.status_path)

    def start_writer_thread(self, interval_s: float = RETRY_INTERVAL_S) -> None:
        """The writer thread: drains the spool when asked (request_flush) and, while records
        wait or the database is down, every interval_s, so a quiet period loses nothing."""
        def loop() -> None:
            while not self._stop.is_set():
                asked = self._wake.wait(interval_s)
                if asked:
                    # The saves of the next moment join this one: under load, one transaction and
                    # one spool rewrite for several messages instead of one each.
                    self._stop.wait(BATCH_WAIT_S)
                self._wake.clear()
                if self._stop.is_set():
                    break
                if asked or self.spool.count() or self.state == DOWN:
                    self.flush()

        self._retrier = threading.Thread(target=loop, name="transcript-writer", daemon=True)
        self._retrier.start()

    def request_flush(self) -> None:
        """Asks the writer thread to drain the spool now, without waiting for it: the records are
        already durable in the spool, and the conversation need not wait for the database."""
        if self._retrier is None:
            self.flush()
        else:
            self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._retrier is not None:
            self._retrier.join()
            self.flush()  # what is left now, not at the next start
        if self._engine is not None:
            self._engine.dispose()
