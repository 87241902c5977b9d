"""Serves the staff app with waitress, and purges on a schedule when configured."""
from __future__ import annotations

import logging
import sys
import threading

import waitress

from ..settings import Settings
from ..store.database import make_engine, make_session_factory
from ..store.retention import purge
from . import StaffConfigError, create_app

logger = logging.getLogger(__name__)
SCHEDULE_ACTOR = "schedule"
# How long a thread may hold Python's interpreter lock before another gets it (Python's default: 5 ms).
# A streaming export is busy in Python; a page waits for the lock at each database round trip, so
# with the default an export would add tens of milliseconds to every other page.
SWITCH_INTERVAL_S = 0.001


def start_purge_schedule(settings: Settings, stop: threading.Event) -> threading.Thread:
    """Every PURGE_EVERY_HOURS, deletes transcripts older than RETENTION_DAYS (audited as 'schedule')."""
    sessions = make_session_factory(make_engine(settings.transcripts_url))

    def loop() -> None:
        while True:
            try:
                deleted = purge(sessions, settings, settings.retention_days, SCHEDULE_ACTOR)
                logger.info("scheduled purge: %d conversation(s) older than %d days", deleted.conversations, settings.retention_days)
            except Exception:  # a failed purge must not stop the next one; the log says why
                logger.exception("scheduled purge failed")
            if stop.wait(settings.purge_every_hours * 3600):
                return

    thread = threading.Thread(target=loop, name="retention-purge", daemon=True)
    thread.start()
    return thread


def serve(settings: Settings) -> int:
    try:
        app = create_app(settings)
    except StaffConfigError as error:
        logger.error("%s", error)
        return 2
    if settings.retention_days and settings.purge_every_hours:
        start_purge_schedule(settings, threading.Event())
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    logger.info("staff review app on %s", settings.staff_url)
    waitress.serve(app, host=settings.staff_host, port=settings.staff_port, threads=4, ident="triage-staff")
    return 0
