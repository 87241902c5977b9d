"""Parity: the same scripted conversation over REST and over socket.io (the website widget's channel)
gets the same replies and ends with the same triage decision; over Telegram and Slack (against fake
APIs on 127.0.0.1) it ends with the same decision too; each transcript keeps its channel."""
from __future__ import annotations

import random
import threading
import uuid
from dataclasses import replace

import pytest

from bot.serve import Assistant
from bot.settings import Settings

from ..store.databases import free_port
from ..channels import test_slack as slack
from ..channels import test_telegram as telegram
from ..channels.fake_api import eventually
from ..store.test_rasa_transcripts import transcript_of
from .test_rest_conversation import MODEL, say

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")
SCRIPT = [
    "hello",
    "my left foot has been numb for three weeks, worse when I sit, and I'm diabetic",
    "None of those",
    "Gradually",
    "All the time",
    "Nothing else",
    "and now I can't control my bladder",
]
WAIT_S = 120


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, apis):
    settings = telegram.telegram_settings(tmp_path_factory.mktemp("parity"), apis["telegram"].url)
    settings = replace(settings, web_port=free_port(), slack_token=slack.TOKEN, slack_signing_secret=slack.SIGNING_SECRET,
                       slack_api_url=apis["slack"].url + "/api/")
    with Assistant(settings, quiet=True) as running:
        yield running


def over_rest(assistant, sender):
    return [message for text in SCRIPT for message in say(assistant, sender, text)]


class WidgetClient:
    """What rasa-webchat does: a session_request, then user_uttered with customData and the session id."""

    def __init__(self, settings: Settings):
        import socketio

        self.received, self.changed = [], threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_confirm", self._confirmed)
        self.client.on("bot_uttered", self._uttered)
        self.session_id = None
        self.client.connect(settings.rasa_url, headers={"Origin": settings.web_url}, socketio_path="/socket.io/")

    def _confirmed(self, session_id):
        with self.changed:
            self.session_id = session_id
            self.changed.notify_all()

    def _uttered(self, message):
        with self.changed:
            self.received.append(message)
            self.changed.notify_all()

    def wait_for(self, condition, what):
        with self.changed:
            assert self.changed.wait_for(condition, timeout=WAIT_S), f"socket.io: {what} never came"

    def converse(self, texts, expected_count):
        self.client.emit("session_request", {"session_id": uuid.uuid4().hex})
        self.wait_for(lambda: self.session_id, "session_confirm")
        for text in texts:
            before = len(self.received)
            self.client.emit("user_uttered", {"message": text, "session_id": self.session_id, "customData": {"language": "en"}})
            self.wait_for(lambda: len(self.received) > before, f"a reply to {text!r}")
        self.wait_for(lambda: len(self.received) >= expected_count, f"{expected_count} messages")
        return self.received

    def close(self):
        self.client.disconnect()


def rest_as_widget_sees_it(messages):
    """The REST replies as the socket.io channel sends them: text split at blank lines, decisions as data."""
    seen = []
    for message in messages:
        if message.get("text"):
            seen += message["text"].strip().split("\n\n")
        if message.get("custom"):
            seen.append(message["custom"])
    return seen


def socketio_as_seen(messages):
    return [m["text"] if "text" in m else m["custom"] for m in messages]


def last_decision(items):
    return [i["triage"] for i in items if isinstance(i, dict) and "triage" in i][-1]


def test_rest_and_socketio_give_the_same_replies_and_decision(assistant):
    rest_sender = f"parity-rest-{uuid.uuid4().hex[:8]}"
    expected = rest_as_widget_sees_it(over_rest(assistant, rest_sender))
    widget = WidgetClient(assistant.settings)
    try:
        received = socketio_as_seen(widget.converse(SCRIPT, len(expected)))
    finally:
        widget.close()
    assert received == expected
    decision = last_decision(received)
    assert decision["level"] == "emergency" and "emergency.bladder_bowel_loss" in decision["rules"]

    (rest,) = transcript_of(assistant, rest_sender)
    (socket,) = transcript_of(assistant, widget.session_id)
    assert (rest.channel, socket.channel) == ("rest", "socketio")
    assert rest.triage_level == socket.triage_level == "emergency"
    assert [m.text for m in rest.messages] == [m.text for m in socket.messages]


def final_decision(conversation):
    decided = [m.decision for m in conversation.messages if m.decision]
    return conversation.triage_level, decided[-1].rules


def test_telegram_and_slack_end_with_the_same_decision_as_rest(assistant, apis):
    settings = assistant.settings
    rest_sender = f"parity-rest-{uuid.uuid4().hex[:8]}"
    over_rest(assistant, rest_sender)
    chat = random.randint(10**6, 10**9)
    for text in SCRIPT:  # the webhook answers once the replies are sent
        assert telegram.post(settings, telegram.message_update(chat, text)) == 200
    user, channel = slack.new_user()
    for text in SCRIPT:  # Slack is answered in the background: one message at a time, like a person
        before = len(slack.posted(apis["slack"], channel))
        assert slack.say(settings, user, channel, text) == 200
        slack.answered(apis["slack"], channel, before + 1, f"an answer to {text!r}")
    eventually(lambda: [m.text for c in transcript_of(assistant, user) for m in c.messages if m.speaker == "user"] == SCRIPT
               and transcript_of(assistant, user)[0].triage_level == "emergency", "the whole Slack conversation")

    (rest,) = transcript_of(assistant, rest_sender)
    (over_telegram,) = transcript_of(assistant, str(chat))
    (over_slack,) = transcript_of(assistant, user)
    assert (rest.channel, over_telegram.channel, over_slack.channel) == ("rest", "telegram", "slack")
    assert final_decision(rest) == final_decision(over_telegram) == final_decision(over_slack)
    assert final_decision(rest)[0] == "emergency"
    for conversation in (over_telegram, over_slack):
        assert [m.text for m in conversation.messages] == [m.text for m in rest.messages]
