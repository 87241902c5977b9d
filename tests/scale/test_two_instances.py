"""Two Rasa servers behind one address, as deployed: a real PostgreSQL (Rasa's events and the
transcripts) and a real Redis (the conversation locks) shared by both, one action server.

One conversation's turns go alternately to each server; the replies, Rasa's events and the
transcript must come out as when one server handles every turn. Turns of one conversation sent
to both servers at once must be handled one after the other, none lost. (The `cluster` fixture
is in conftest.py.)
"""
from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from typing import Dict, List

import pytest
from sqlalchemy import text

from bot.store.database import make_engine, make_session_factory
from bot.store.lock_store import SharedRedisLockStore
from bot.store.models import Conversation
from bot.store.retention import erase

from ..e2e.test_channel_parity import SCRIPT
from ..store.databases import stored_conversations
from ..e2e.test_rest_conversation import MODEL

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")


def say(url: str, sender: str, words: str) -> List[dict]:
    request = urllib.request.Request(
        url + "/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": words}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def without_recipient(replies: List[List[dict]]) -> List[List[dict]]:
    return [[{k: v for k, v in m.items() if k != "recipient_id"} for m in reply] for reply in replies]


def new_sender(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def events_of(cluster, sender: str) -> List[dict]:
    """Rasa's events for the sender, in the order Rasa reads them back (by id)."""
    engine = make_engine(cluster.base.tracker_store_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender}
            ).all()
        return [json.loads(row.data) for row in rows]
    finally:
        engine.dispose()


def turn_shape(events: List[dict]) -> List[tuple]:
    """What must match between runs: event kinds, actions, intents and texts, not timestamps."""
    return [
        (e["event"], e.get("name"), (e.get("parse_data") or {}).get("intent", {}).get("name"), e.get("text"))
        for e in events
        if e["event"] in ("user", "bot", "action", "slot", "active_loop", "session_started")
    ]


def transcript_of(cluster, sender: str) -> List[Conversation]:
    return stored_conversations(cluster.base, sender)


def rows(conversation: Conversation) -> List[tuple]:
    return [(m.speaker, m.text, m.intent, m.decision.level if m.decision else None) for m in conversation.messages]


def assert_transcript_matches_events(cluster, sender: str) -> Conversation:
    """One transcript row per user or bot event, in the same order, none twice."""
    (conversation,) = transcript_of(cluster, sender)
    said = [(e["event"], e.get("text") or "") for e in events_of(cluster, sender) if e["event"] in ("user", "bot")]
    assert [(m.speaker, m.text) for m in conversation.messages] == said
    assert len({m.event_key for m in conversation.messages}) == len(conversation.messages)
    return conversation


def test_alternating_servers_give_the_same_conversation_as_one_server(cluster):
    first, second = cluster.urls
    one, both = new_sender("one-server"), new_sender("alternating")
    alone = [say(first, one, words) for words in SCRIPT]
    alternating = [say((first, second)[turn % 2], both, words) for turn, words in enumerate(SCRIPT)]

    assert without_recipient(alternating) == without_recipient(alone)  # texts, buttons, triage payloads
    decision = [m["custom"]["triage"] for m in alternating[-1] if isinstance(m.get("custom"), dict)]
    assert decision and decision[0]["level"] == "emergency"

    assert turn_shape(events_of(cluster, both)) == turn_shape(events_of(cluster, one))
    user_texts = [e["text"] for e in events_of(cluster, both) if e["event"] == "user"]
    assert user_texts == SCRIPT

    reference = assert_transcript_matches_events(cluster, one)
    stored = assert_transcript_matches_events(cluster, both)
    assert rows(stored) == rows(reference)
    assert (stored.channel, stored.triage_level, stored.emergency) == ("rest", "emergency", True)
    assert stored.red_flags == reference.red_flags


def test_turns_sent_to_both_servers_at_once_are_handled_one_at_a_time(cluster):
    sender = new_sender("concurrent")
    say(cluster.urls[0], sender, "hello")
    texts = ["my left leg is numb", "what is sciatica?", "it started gradually", "ok thanks"]
    replies: Dict[str, List[dict]] = {}
    errors: List[BaseException] = []
    start = threading.Barrier(len(texts))

    def send(url: str, words: str) -> None:
        try:
            start.wait()
            replies[words] = say(url, sender, words)
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=send, args=(cluster.urls[i % 2], words)) for i, words in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors and len(replies) == len(texts)

    events = events_of(cluster, sender)
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert sorted(events[i]["text"] for i in users) == sorted(["hello", *texts])  # each once, none lost
    # Every turn ran to its end (the bot listening again) before the next began, and each
    # server's reply is exactly the bot messages of its own turn.
    for start_at, end_at in zip(users, users[1:] + [len(events)]):
        turn = events[start_at:end_at]
        actions = [e["name"] for e in turn if e["event"] == "action"]
        assert actions and actions[-1] == "action_listen", turn
        said = turn[0]["text"]
        if said in replies:
            # Rasa's REST channel sends a bot message's custom data (the triage decision) as a
            # message of its own: the texts, and the decisions, are each those of this turn.
            bot_events = [e for e in turn if e["event"] == "bot"]
            assert [e.get("text") for e in bot_events] == [m["text"] for m in replies[said] if "text" in m]
            assert [(e.get("data") or {}).get("custom") for e in bot_events if (e.get("data") or {}).get("custom")] == [
                m["custom"] for m in replies[said] if "custom" in m]
    assert_transcript_matches_events(cluster, sender)


def test_a_turn_waits_while_another_server_holds_the_conversation(cluster):
    sender = new_sender("held")
    say(cluster.urls[0], sender, "hello")
    holder = SharedRedisLockStore(url=cluster.base.lock_store_url)  # as a third server would
    ticket = holder.issue_ticket(sender)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (say(cluster.urls[1], sender, "my left leg is numb"), done.set()))
    thread.start()
    try:
        assert not done.wait(4), "the second server answered while the lock was held elsewhere"
    finally:
        holder.cleanup(sender, ticket)
    assert done.wait(60)
    thread.join()
    assert [e["text"] for e in events_of(cluster, sender) if e["event"] == "user"] == ["hello", "my left leg is numb"]


def test_each_server_keeps_its_own_spool_and_reports_the_database_healthy(cluster):
    for server in cluster.servers:
        status = server.instance_dir / "transcripts-status.json"
        deadline = time.monotonic() + 10
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert json.loads(status.read_text())["database"] == "ok"
        assert server.transcript_spool.parent == server.instance_dir != cluster.base.data_dir
        assert "SharedRedisLockStore" in (server.instance_dir / "endpoints.yml").read_text()


def test_erasing_a_sender_reaches_the_shared_tracker_database(cluster):
    sender = new_sender("erased")
    for turn, words in enumerate(["hello", "my left leg is numb"]):
        say(cluster.urls[turn % 2], sender, words)
    assert events_of(cluster, sender) and transcript_of(cluster, sender)
    engine = make_engine(cluster.base.transcripts_url)
    try:
        deleted = erase(make_session_factory(engine), cluster.base, sender, actor="test")
    finally:
        engine.dispose()
    assert deleted.conversations == 1 and deleted.tracker_events > 0
    assert events_of(cluster, sender) == [] and transcript_of(cluster, sender) == []
