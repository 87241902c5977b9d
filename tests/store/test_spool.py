"""The spool: records wait here durably; a failed drain leaves them all; unreadable lines are set aside."""
from __future__ import annotations

import pytest

from bot.store.records import transcript_records
from bot.store.spool import Spool

from .events import emergency_conversation


def records(sender="p1", start=1_700_000_000.0):
    return transcript_records(sender, emergency_conversation(start), first_new=0)


def test_append_then_drain_passes_everything_in_order_and_empties_the_file(tmp_path):
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(records()[:2])
    spool.append(records()[2:])
    seen = []
    assert spool.drain(seen.extend) == 4
    assert seen == records() and spool.count() == 0


def test_a_failing_consumer_leaves_every_record_in_place(tmp_path):
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(records())

    def database_down(_batch):
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        spool.drain(database_down)
    assert spool.count() == 4


def test_a_torn_line_is_moved_to_the_rejected_file_not_dropped(tmp_path):
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(records())
    with open(spool.path, "a", encoding="utf-8") as handle:
        handle.write('{"key": "half a rec')  # what a crash in the middle of a write leaves
    seen = []
    spool.drain(seen.extend)
    assert len(seen) == 4
    assert spool.rejected_count() == 1 and '"half a rec' in spool.rejected_path.read_text()


def test_rewrite_drops_only_the_records_refused(tmp_path):
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(records("p1") + records("p2", start=1_700_000_100.0))
    assert spool.rewrite(lambda record: record.sender != "p1") == 4
    kept = []
    spool.drain(kept.extend)
    assert {r.sender for r in kept} == {"p2"}
