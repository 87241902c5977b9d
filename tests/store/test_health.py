"""The transcript part of the health report: a record passing through the spool is normal, one stuck is not."""
from __future__ import annotations

import time

from bot.store.health import STUCK_AFTER_S, transcript_health
from bot.store.records import TranscriptRecord
from bot.store.spool import Spool


def waiting_record(at: float) -> TranscriptRecord:
    return TranscriptRecord(key=f"k{at}", sender="p1", session_key="s1", session_started_at=at, at=at,
                            speaker="user", text="my foot tingles")


def test_a_record_waiting_a_moment_keeps_the_report_ok(settings, database):
    Spool(settings.transcript_spool).append([waiting_record(time.time() - 1)])
    health = transcript_health(settings)
    assert (health["ok"], health["waiting"], health["database"]) == (True, 1, "ok")
    assert 0 <= health["oldest_waiting_s"] < STUCK_AFTER_S


def test_a_record_waiting_longer_than_the_limit_is_reported_as_stuck(settings, database):
    spool = Spool(settings.transcript_spool)
    spool.append([waiting_record(time.time() - 1), waiting_record(time.time() - STUCK_AFTER_S - 5)])
    health = transcript_health(settings)
    assert (health["ok"], health["waiting"]) == (False, 2)
    assert health["oldest_waiting_s"] > STUCK_AFTER_S


def test_nothing_waiting_reports_no_age(settings, database):
    health = transcript_health(settings)
    assert (health["ok"], health["waiting"], health["oldest_waiting_s"]) == (True, 0, None)
