"""The edge checks every request passes before Rasa (bot/channels/edge.py) and the admission in
front of the Rasa server (bot/channels/guard.py Admission)."""
from __future__ import annotations

import asyncio
import json

import pytest

from bot.channels.edge import (MAX_SENDER_CHARS, BadRequest, clean_metadata, clean_sender, clean_text,
                               rest_message)
from bot.channels.guard import Admission

LIMIT = 1024


def body(value) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize("raw,reason", [
    (b"", "JSON object"),
    (b"   ", "JSON object"),
    (b"null", "JSON object"),
    (b"[1, 2]", "JSON object"),
    (b'"a string"', "JSON object"),
    (b"{not json", "must be JSON"),
    (b"\xff\xfe{}", "must be JSON"),
    (body({"message": "my leg is numb"}), "'sender'"),
    (body({"sender": None, "message": "hi"}), "'sender'"),
    (body({"sender": "", "message": "hi"}), "'sender'"),
    (body({"sender": "   ", "message": "hi"}), "'sender'"),
    (body({"sender": True, "message": "hi"}), "'sender'"),
    (body({"sender": ["a"], "message": "hi"}), "'sender'"),
    (body({"sender": "x" * (MAX_SENDER_CHARS + 1), "message": "hi"}), "at most"),
    (body({"sender": "a", "message": 5}), "'message'"),
    (body({"sender": "a", "message": True}), "'message'"),
    (body({"sender": "a", "message": ["I can't control my bladder"]}), "'message'"),
    (body({"sender": "a", "message": {"text": "hi"}}), "'message'"),
])
def test_a_bad_rest_body_is_refused_with_400_and_a_reason(raw, reason):
    with pytest.raises(BadRequest) as refused:
        rest_message(raw, LIMIT)
    assert refused.value.status == 400 and reason in refused.value.reason


def test_a_body_over_the_limit_is_refused_with_413():
    with pytest.raises(BadRequest) as refused:
        rest_message(body({"sender": "a", "message": "numb " * 300}), LIMIT)
    assert refused.value.status == 413 and str(LIMIT) in refused.value.reason


def test_only_the_fields_we_accept_are_passed_on_and_bad_metadata_is_ignored_not_the_message():
    incoming = rest_message(
        body({"sender": "a", "message": "I can't control my bladder", "input_channel": "telegram", "metadata": "x"}), LIMIT
    )
    assert incoming.as_json() == {"sender": "a", "message": "I can't control my bladder", "metadata": None}


def test_a_missing_message_is_an_empty_one_and_a_number_is_a_sender_id():
    assert rest_message(body({"sender": 12345}), LIMIT).as_json() == {"sender": "12345", "message": "", "metadata": None}


def test_sender_ids_are_made_storable():
    assert clean_sender("x\udc00") == "x\ufffd"
    assert clean_sender(" nul\x00 ") == "nul\ufffd"
    "".join(clean_sender("\ud83e" * 3)).encode("utf-8")


@pytest.mark.parametrize("raw,read", [
    ("con\u200btrol", "control"),
    ("slur\u00adred speech", "slurred speech"),
    ("\ufeffmy leg is numb", "my leg is numb"),
    ("my leg \u202eis numb\u202c", "my leg is numb"),
    ("bla\u2060dder \u2066leak\u2069", "bladder leak"),
    ("leg\x00 \ud83e", "leg\ufffd \ufffd"),
    ("numb  \u200b", "numb"),
])
def test_invisible_characters_are_removed_and_unstorable_ones_replaced(raw, read):
    assert clean_text(raw) == read


def test_metadata_is_an_object_of_bounded_size_or_nothing():
    assert clean_metadata({"page": "x\udc00", "n": 1, "deep": {"a": {"b": {"c": {"d": 1}}}}}) == {
        "page": "x\ufffd", "n": 1, "deep": {"a": {"b": {"c": None}}}}
    assert clean_metadata('{"language": "en"}') == {"language": "en"}
    for bad in ("{oops", "text", 5, ["a"], None, {"big": "x" * 10_000}):
        assert clean_metadata(bad) is None


def test_one_senders_messages_are_handled_one_at_a_time_in_order_and_others_are_not_held_up():
    async def scenario():
        admission, log = Admission(limit=4, wait_s=5), []

        def work(name, delay):
            async def run():
                log.append(f"start {name}")
                await asyncio.sleep(delay)
                log.append(f"end {name}")
            return run

        await asyncio.gather(
            admission.run("a", False, work("a1", 0.05)),
            admission.run("a", False, work("a2", 0.0)),
            admission.run("b", False, work("b1", 0.0)),
        )
        return log

    log = asyncio.run(scenario())
    assert log.index("end a1") < log.index("start a2")  # a's second waits for its first
    assert log.index("end b1") < log.index("end a1")  # b is not behind a


def test_past_the_limit_a_message_is_busy_after_the_wait_and_an_urgent_one_still_runs():
    async def scenario():
        admission, ran = Admission(limit=1, wait_s=0.05), []

        async def slow():
            await asyncio.sleep(0.3)

        async def quick(name):
            ran.append(name)

        blocker = asyncio.ensure_future(admission.run("a", False, slow))
        await asyncio.sleep(0.01)
        busy = await admission.run("b", False, lambda: quick("b"))
        urgent = await admission.run("c", True, lambda: quick("c"))
        await blocker
        after = await admission.run("d", False, lambda: quick("d"))
        return busy, urgent, after, ran, admission.in_flight

    busy, urgent, after, ran, in_flight = asyncio.run(scenario())
    assert (busy, urgent, after) == (False, True, True)
    assert ran == ["c", "d"] and in_flight == 0


def test_a_freed_place_goes_to_the_longest_waiting_message_not_to_one_just_arrived():
    async def scenario():
        admission, order = Admission(limit=1, wait_s=5), []
        release = asyncio.Event()

        async def hold():
            await release.wait()

        async def note(name):
            order.append(name)
            await asyncio.sleep(0)

        blocker = asyncio.ensure_future(admission.run("a", False, hold))
        await asyncio.sleep(0)
        waiting = [asyncio.ensure_future(admission.run(name, False, lambda name=name: note(name))) for name in ("w1", "w2", "w3")]
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.sleep(0)  # the blocker leaves; a newcomer arrives at that very moment
        newcomer = asyncio.ensure_future(admission.run("n", False, lambda: note("n")))
        results = await asyncio.gather(blocker, *waiting, newcomer)
        return order, results, admission.in_flight, len(admission._waiting)

    order, results, in_flight, still_waiting = asyncio.run(scenario())
    assert order == ["w1", "w2", "w3", "n"] and all(results)
    assert in_flight == 0 and still_waiting == 0


def test_a_waiting_message_cancelled_or_timed_out_keeps_no_place():
    async def scenario():
        admission = Admission(limit=1, wait_s=0.05)
        release = asyncio.Event()

        async def hold():
            await release.wait()

        async def nothing():
            return None

        blocker = asyncio.ensure_future(admission.run("a", False, hold))
        await asyncio.sleep(0)
        timed_out = await admission.run("b", False, nothing)
        cancelled = asyncio.ensure_future(admission.run("c", False, nothing))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        await asyncio.gather(cancelled, return_exceptions=True)
        release.set()
        await blocker
        after = await admission.run("d", False, nothing)
        return timed_out, cancelled.cancelled(), after, admission.in_flight

    timed_out, was_cancelled, after, in_flight = asyncio.run(scenario())
    assert (timed_out, was_cancelled, after, in_flight) == (False, True, True, 0)
