"""End to end: generated requests against the real REST channel (hypothesis), then 100 senders at
once. Never a 5xx, never silence, no process down, every accepted message stored exactly once;
under load a message is answered or told "busy", never given the technical-problem message."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.serve import Assistant

from .support import (EMERGENCY_START, FIGURES, MODEL, TECHNICAL_PROBLEM, e2e_settings, get, new_sender,
                      stored_user_texts, texts)

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")

BUSY = "I'm very busy right now"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Text as clients send it, lone surrogates and invisible characters included (json.dumps escapes them).
ODD_TEXT = st.text(st.characters(blacklist_categories=()), max_size=200) | st.sampled_from(
    ["", " ", "/restart", '/deny{"red_flag": "none"}', "con\u200btrol my bladder", "x\udc00", "\x00"]
)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    settings_ = replace(e2e_settings(tmp_path_factory.mktemp("fuzz")), rate_limit_per_minute=100_000)
    with Assistant(settings_, quiet=True) as running:
        yield running


def post_raw(assistant, data: bytes, content_type: str = "application/json", timeout: float = 60):
    request = urllib.request.Request(assistant.settings.rasa_url + "/webhooks/rest/webhook", data=data,
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_answer(status: int, raw: bytes) -> list:
    """The contract for any request: a list of messages with text (200), or a reason (400/413)."""
    assert status < 500, (status, raw[:300])
    body = json.loads(raw)
    if status == 200:
        assert isinstance(body, list) and texts(body), body
        return body
    assert status in (400, 413) and isinstance(body.get("error"), str), (status, body)
    return []


def still_up(assistant) -> None:
    assert all(process.poll() is None for process in assistant.processes.values())
    assert get(assistant.settings.rasa_url + "/webhooks/rest/")[0] == 200


FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_get_an_answer_or_a_reason(assistant, data):
    check_answer(*post_raw(assistant, data))
    FIGURES["fuzz: generated HTTP requests"] += 1


@FUZZ
@given(value=JSON_VALUES)
def test_any_json_value_gets_an_answer_or_a_reason(assistant, value):
    check_answer(*post_raw(assistant, json.dumps(value).encode()))
    FIGURES["fuzz: generated HTTP requests"] += 1


@FUZZ
@given(message=ODD_TEXT | JSON_VALUES, metadata=JSON_VALUES, extra=st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=3))
def test_a_message_of_any_shape_is_answered_and_stored_once_or_refused(assistant, message, metadata, extra):
    sender = new_sender("fuzz")
    body = {**extra, "sender": sender, "message": message, "metadata": metadata}
    reply = check_answer(*post_raw(assistant, json.dumps(body).encode()))
    stored = stored_user_texts(assistant.settings, sender)
    accepted = bool(reply) and (message is None or isinstance(message, str))
    assert len(stored) == (1 if accepted else 0), (message, stored)
    FIGURES["fuzz: generated HTTP requests"] += 1


def test_after_the_fuzzing_every_process_is_up(assistant):
    still_up(assistant)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        check_answer(*post_raw(assistant, b'{"sender": "s", "message": "hi"}', content_type))


# ---------------------------------------------------------------- 100 senders at once

SENDERS = 100
CONVERSATION = ["my left foot has been numb for three weeks", "no", "it comes and goes"]


def timed_turn(assistant, sender, text):
    started = time.monotonic()
    status, raw = post_raw(assistant, json.dumps({"sender": sender, "message": text}).encode())
    return status, json.loads(raw), time.monotonic() - started


def test_100_senders_at_once_get_answers_or_busy_never_the_technical_problem(assistant):
    senders = [new_sender("load") for _ in range(SENDERS)]

    def conversation(sender):
        return [timed_turn(assistant, sender, text) + (text,) for text in CONVERSATION]

    with ThreadPoolExecutor(max_workers=SENDERS + 1) as pool:
        futures = [pool.submit(conversation, sender) for sender in senders]
        time.sleep(1.0)  # meanwhile, an emergency from someone else
        urgent = pool.submit(timed_turn, assistant, new_sender("load-urgent"), "my legs are numb and I can't control my bladder")
        results = [future.result() for future in futures]
        urgent_status, urgent_reply, _ = urgent.result()

    assert urgent_status == 200 and texts(urgent_reply)[0].startswith(EMERGENCY_START), urgent_reply
    kinds, latencies = Counter(), []
    for sender, turns in zip(senders, results):
        answered = []
        for status, reply, seconds, text in turns:
            said = texts(reply)
            assert status == 200 and said, reply
            latencies.append(seconds)
            if any(TECHNICAL_PROBLEM in t for t in said):
                kinds["technical problem"] += 1
            elif any(BUSY in t for t in said):
                assert all("911" in t for t in said if BUSY in t)
                kinds["busy"] += 1
            else:
                kinds["answered"] += 1
                answered.append(text)
        assert stored_user_texts(assistant.settings, sender) == answered
    assert kinds["technical problem"] == 0, kinds
    latencies.sort()
    FIGURES["load: 100 senders, messages answered"] += kinds["answered"]
    FIGURES["load: 100 senders, busy answers"] += kinds["busy"]
    FIGURES["load: 100 senders, technical-problem messages"] += kinds["technical problem"]
    FIGURES["load: 100 senders, p50 ms"] += int(1000 * latencies[len(latencies) // 2])
    FIGURES["load: 100 senders, p95 ms"] += int(1000 * latencies[int(0.95 * (len(latencies) - 1))])
    FIGURES["load: 100 senders, max ms"] += int(1000 * latencies[-1])
    still_up(assistant)
