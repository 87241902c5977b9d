"""End to end under faults: the real Rasa server and action server, transcripts in a real
PostgreSQL on loopback, and each part taken away in turn.

One assistant for the module (start-ups are slow); the tests run in file order and the later
ones break more: Rasa server restarted, database stopped and started, action server killed,
then an action server that accepts connections and never answers.
"""
from __future__ import annotations

import os
import signal
import socket
import threading
import time
from dataclasses import replace

import pytest
import yaml

from bot.serve import Assistant
from bot.settings import PROJECT_ROOT

from ..store.databases import PostgresServer, require_postgres
from .support import (EMERGENCY_START, FIGURES, MODEL, TECHNICAL_PROBLEM, e2e_settings, get, new_sender, send,
                      stored, stored_user_texts, texts)

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")
VIGNETTES = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / "vignettes.yml").read_text())["vignettes"]
RETRY_WAIT_S = 60  # the transcript writer retries every 10 s


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer(require_postgres()).initialise()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, postgres):
    settings = e2e_settings(tmp_path_factory.mktemp("faults"), database_url=postgres.create_database())
    with Assistant(settings, quiet=True) as running:
        yield running


def health(assistant):
    return get(assistant.settings.rasa_url + "/webhooks/health/")


def conversation_log(replies_by_turn, said):
    """What the transcript should hold: each user text, then the texts sent back for it."""
    return [item for words, reply in zip(said, replies_by_turn) for item in [("user", words)] + [("bot", t) for t in texts(reply)]]


def test_the_health_endpoint_reports_every_part_ok(assistant):
    status, report = health(assistant)
    assert status == 200 and report["ok"] is True, report
    parts = report["parts"]
    assert set(parts) == {"rasa_server", "action_server", "tracker_store", "transcripts"}
    assert all(part["ok"] for part in parts.values()), parts
    assert parts["rasa_server"]["model_loaded"] is True
    assert (parts["transcripts"]["database"], parts["transcripts"]["waiting"], parts["transcripts"]["refused"]) == ("ok", 0, 0)


SCRIPT = ["my left leg has been numb for two weeks", "no", "in my foot", "gradually"]


def test_a_restarted_rasa_server_resumes_the_conversation_without_gap_or_duplicate(assistant):
    # The same script without a restart, for comparison: after the restart the replies must be the same.
    control_sender = new_sender("control")
    control = [texts(send(assistant, control_sender, words)) for words in SCRIPT]
    sender = new_sender("restart")
    before = [send(assistant, sender, words) for words in SCRIPT[:2]]
    assert [texts(reply) for reply in before] == control[:2]
    pending_question = texts(before[-1])[-1]
    assert pending_question.endswith("?")

    assistant.restart("rasa")
    FIGURES["faults survived: Rasa server restarted"] += 1

    after = [send(assistant, sender, words) for words in SCRIPT[2:]]
    assert [texts(reply) for reply in after] == control[2:]  # "in my foot" was taken as the answer to the pending question
    assert pending_question not in texts(after[0])
    replies = before + after
    log = stored(assistant.settings, sender)
    assert log == conversation_log(replies, SCRIPT)  # every message once, in order
    FIGURES["messages sent during faults"] += len(SCRIPT)
    FIGURES["messages stored of those"] += len([text for speaker, text in log if speaker == "user"])


def test_the_database_going_down_mid_conversation_loses_nothing(assistant, postgres):
    sender = new_sender("db-down")
    said = ["my right foot has been tingling for a month"]
    replies = [send(assistant, sender, said[0])]
    postgres.stop()
    FIGURES["faults survived: transcript database stopped"] += 1
    try:
        during = ["no", "it came on gradually", "and now I can't control my bladder", "ok, what should I do?"]
        for words in during:
            replies.append(send(assistant, sender, words))  # the conversation goes on
            assert texts(replies[-1]), words
        assert texts(replies[3])[0].startswith(EMERGENCY_START)
        said += during
        status, report = health(assistant)
        transcripts = report["parts"]["transcripts"]
        assert status == 503 and transcripts["ok"] is False and transcripts["database"] == "unavailable", report
        assert transcripts["waiting"] >= 2 * len(during)  # kept in the spool, not lost
    finally:
        postgres.start()
    # No new message: the writer's own retry writes what waited.
    deadline = time.monotonic() + RETRY_WAIT_S
    while stored_user_texts(assistant.settings, sender) != said and time.monotonic() < deadline:
        time.sleep(1)
    assert stored_user_texts(assistant.settings, sender) == said
    said.append("thank you")
    replies.append(send(assistant, sender, said[-1]))
    assert stored(assistant.settings, sender) == conversation_log(replies, said)
    status, report = health(assistant)
    assert status == 200 and report["parts"]["transcripts"]["waiting"] == 0, report
    FIGURES["messages sent during faults"] += len(during)
    FIGURES["messages stored of those"] += len([t for t in stored_user_texts(assistant.settings, sender) if t in during])


def test_a_nul_character_is_answered_and_stored_in_postgresql(assistant):
    sender = new_sender("nul")
    words = "my leg\x00 is numb"
    assert texts(send(assistant, sender, words))
    stored_texts = stored_user_texts(assistant.settings, sender)
    assert len(stored_texts) == 1 and stored_texts[0].replace("\ufffd", "\x00") == words
    status, report = health(assistant)
    assert report["parts"]["transcripts"]["refused"] == 0, report


def vignette_texts(emergency):
    """The distinct vignette texts (tests/data/vignettes.yml) whose expected level is, or is not, emergency."""
    return sorted({v["text"] for v in VIGNETTES if (v["level"] == "emergency") == emergency})


def test_with_the_action_server_killed_emergencies_still_get_the_emergency_advice(assistant):
    actions = assistant.processes["actions"]
    os.killpg(actions.pid, signal.SIGKILL)
    actions.wait(timeout=30)
    FIGURES["faults survived: action server killed"] += 1

    status, report = health(assistant)
    assert status == 503 and report["parts"]["action_server"]["ok"] is False, report
    assert report["parts"]["rasa_server"]["ok"] and report["parts"]["transcripts"]["ok"], report

    senders, missed, false_alarms = {}, [], []
    for text in vignette_texts(True):  # every emergency vignette
        sender = senders[text] = new_sender("em")
        reply = texts(send(assistant, sender, text))
        if not reply or not reply[0].startswith(EMERGENCY_START):
            missed.append((text, reply))
        else:
            FIGURES["emergencies answered while the action server was down"] += 1
            assert any(TECHNICAL_PROBLEM in t for t in reply[1:]), reply  # then the action's place is taken
    for text in vignette_texts(False):  # and every other vignette
        sender = senders[text] = new_sender("non-em")
        reply = texts(send(assistant, sender, text))
        assert any(TECHNICAL_PROBLEM in t for t in reply), (text, reply)
        if any("EMERGENCY" in t for t in reply):
            false_alarms.append((text, reply))
    FIGURES["emergency vignettes sent while the action server was down"] += len(vignette_texts(True))
    FIGURES["non-emergency vignettes sent while the action server was down"] += len(vignette_texts(False))
    FIGURES["messages sent during faults"] += len(senders)
    kept = sum(stored_user_texts(assistant.settings, sender) == [text] for text, sender in senders.items())
    FIGURES["messages stored of those"] += kept
    assert not missed, f"{len(missed)} emergencies without the emergency advice: {missed}"
    assert not false_alarms, false_alarms
    assert kept == len(senders)


class BlackHole:
    """Accepts connections on a port and never answers: an action server that hangs."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for connection in self.held:
            connection.close()


def test_a_hanging_action_server_gets_the_technical_problem_message_not_silence(assistant):
    # Last: it takes the action server's port (the real one was killed above).
    hole = BlackHole(assistant.settings.action_port)
    try:
        assistant.settings = replace(assistant.settings, action_timeout_s=2)
        assistant.restart("rasa")
        FIGURES["faults survived: action server hanging"] += 1
        sender = new_sender("slow")
        reply = texts(send(assistant, sender, "my left leg has been numb for two weeks", timeout=20))
        assert any(TECHNICAL_PROBLEM in t for t in reply), reply
        em_sender, em_text = new_sender("slow-em"), "my legs are numb and I can't control my bladder"
        emergency = texts(send(assistant, em_sender, em_text, timeout=20))
        assert emergency[0].startswith(EMERGENCY_START) and any(TECHNICAL_PROBLEM in t for t in emergency), emergency
        FIGURES["emergencies answered while the action server was down"] += 1
        FIGURES["messages sent during faults"] += 2
        kept = [stored_user_texts(assistant.settings, sender), stored_user_texts(assistant.settings, em_sender)]
        FIGURES["messages stored of those"] += sum(map(len, kept))
        assert kept == [["my left leg has been numb for two weeks"], [em_text]]
    finally:
        hole.close()
