"""Load, end to end: 100 people at once over REST against the real servers, with the default limits
(CONCURRENT_MESSAGES messages in Rasa at once, the busy answer after BUSY_AFTER_S).

Each person holds a short conversation of three messages, each sent once the reply to the last one
came. Every reply must say something: a normal answer, or the busy answer (which gives the emergency
number), never the technical-problem message; every message that got a normal answer is stored
exactly once, and no busy one is. An emergency sent in the middle of it gets the emergency advice,
never the busy answer. Latencies are reported, not asserted (each request only has a time-out that
catches a hang)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import pytest

from bot.serve import Assistant

from .support import EMERGENCY_START, FIGURES, MODEL, TECHNICAL_PROBLEM, e2e_settings, new_sender, post, stored_user_texts

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")

PEOPLE = 100
CONVERSATION = ["my left foot has been numb for three weeks", "no", "it comes and goes"]
EMERGENCY = "my legs went numb and now I can't control my bladder"
BUSY = "I'm very busy right now"
REQUEST_TIMEOUT_S = 60  # only a hang trips it
EMERGENCY_AFTER_S = 2.0  # the 100 are well under way by then


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    with Assistant(e2e_settings(tmp_path_factory.mktemp("load")), quiet=True) as running:
        yield running


def turn(assistant: Assistant, sender: str, text: str) -> Dict[str, Any]:
    started = time.monotonic()
    status, reply = post(assistant.settings.rasa_url + "/webhooks/rest/webhook", {"sender": sender, "message": text},
                         timeout=REQUEST_TIMEOUT_S)
    latency = time.monotonic() - started
    said = [m.get("text") for m in reply if isinstance(m, dict) and m.get("text")] if isinstance(reply, list) else []
    if any(TECHNICAL_PROBLEM in t for t in said):
        kind = "technical"
    elif any(BUSY in t for t in said):
        kind = "busy"
    else:
        kind = "normal"
    return {"sender": sender, "text": text, "status": status, "reply": reply, "said": said, "kind": kind, "latency": latency}


def percentile(values: List[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def test_100_people_at_once_each_get_answers_and_an_emergency_gets_through(assistant):
    senders = [new_sender("load") for _ in range(PEOPLE)]
    start = threading.Barrier(PEOPLE + 1)

    def person(sender: str) -> List[Dict[str, Any]]:
        start.wait(timeout=60)
        return [turn(assistant, sender, text) for text in CONVERSATION]

    def emergency() -> Dict[str, Any]:
        start.wait(timeout=60)
        time.sleep(EMERGENCY_AFTER_S)
        return turn(assistant, new_sender("load-emergency"), EMERGENCY)

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=PEOPLE + 1) as pool:
        conversations = [pool.submit(person, sender) for sender in senders]
        urgent = pool.submit(emergency)
        results = [turn_ for future in conversations for turn_ in future.result(timeout=600)]
        urgent = urgent.result(timeout=600)
    took = time.monotonic() - began

    for result in results + [urgent]:
        assert result["status"] == 200 and isinstance(result["reply"], list), result
        assert result["said"] and all(isinstance(t, str) and t.strip() for t in result["said"]), result  # never silence
    kinds = {kind: [r for r in results if r["kind"] == kind] for kind in ("normal", "busy", "technical")}
    latencies = [r["latency"] for r in results]
    figures = {
        "load: people at once": PEOPLE,
        "load: messages sent": len(results) + 1,
        "load: normal answers": len(kinds["normal"]),
        "load: busy answers": len(kinds["busy"]),
        "load: technical-problem answers": len(kinds["technical"]),
        "load: latency p50 ms": round(1000 * percentile(latencies, 0.50)),
        "load: latency p95 ms": round(1000 * percentile(latencies, 0.95)),
        "load: latency max ms": round(1000 * max(latencies)),
        "load: emergency reply ms": round(1000 * urgent["latency"]),
        "load: seconds for all of it": round(took),
    }
    for kind in ("normal", "busy"):
        if kinds[kind]:
            values = [r["latency"] for r in kinds[kind]]
            figures[f"load: {kind} latency p50 ms"] = round(1000 * percentile(values, 0.50))
            figures[f"load: {kind} latency max ms"] = round(1000 * max(values))
    FIGURES.update(figures)
    print("\n" + "\n".join(f"{name}: {value}" for name, value in figures.items()), flush=True)

    assert not kinds["technical"], [(r["sender"], r["text"], r["said"]) for r in kinds["technical"]]
    for result in kinds["busy"]:
        assert all("911" in t for t in result["said"] if BUSY in t), result["said"]
    # The emergency skips the queue: its advice, never the busy answer.
    assert urgent["kind"] == "normal" and urgent["said"][0].startswith(EMERGENCY_START), urgent["said"]

    # Each message answered normally is stored once, in order; a busy one never reached Rasa.
    for sender in senders:
        answered = [r["text"] for r in results if r["sender"] == sender and r["kind"] == "normal"]
        assert stored_user_texts(assistant.settings, sender) == answered, sender
    assert stored_user_texts(assistant.settings, urgent["sender"]) == [EMERGENCY]
    for name, process in assistant.processes.items():
        assert process.poll() is None, (name, assistant.tail(name, 60))
