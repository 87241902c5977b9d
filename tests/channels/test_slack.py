"""Slack end to end: the real Rasa server with our Slack channel, signed event_callback requests and
button clicks posted to its webhook, and a fake Web API on 127.0.0.1 recording what the assistant posts."""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from bot.serve import Assistant
from bot.settings import Settings

from ..e2e.test_rest_conversation import MODEL
from ..store.conftest import TEST_PSEUDONYM_KEY
from ..store.databases import free_port
from ..store.test_rasa_transcripts import transcript_of
from .fake_api import api_fixture, eventually

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")
TOKEN = "xoxb-test-token-for-the-fake-web-api"
SIGNING_SECRET = "slack-signing-secret-0123456789"


def web_api(path, fields):
    return {"ok": True, "channel": fields.get("channel"), "ts": f"{time.time():.6f}"}


api = api_fixture(web_api)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, api):
    data_dir = tmp_path_factory.mktemp("slack")
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), data_dir=data_dir, tracker_db=data_dir / "tracker.db",
        model_path=MODEL, pseudonym_key=TEST_PSEUDONYM_KEY, slack_token=TOKEN, slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api.url + "/api/",
    )
    with Assistant(settings, quiet=True) as running:
        yield running


def signed_post(settings, body: bytes, content_type, secret=SIGNING_SECRET, retry=None):
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}
    if retry:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"})
    request = urllib.request.Request(settings.rasa_url + "/webhooks/slack/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def message_event(user, channel, text):
    return {"token": "unused", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
            "event_id": f"Ev{random.randint(1, 10**9)}", "event_time": int(time.time()), "authed_users": ["UBOT"],
            "event": {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text,
                      "ts": f"{time.time():.6f}"}}


def say(settings, user, channel, text, **kwargs):
    return signed_post(settings, json.dumps(message_event(user, channel, text)).encode(), "application/json", **kwargs)


def click(settings, user, channel, value):
    payload = {"type": "block_actions", "user": {"id": user}, "channel": {"id": channel},
               "message": {"ts": f"{time.time():.6f}"}, "actions": [{"type": "button", "value": value, "text": {"text": value}}]}
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    return signed_post(settings, body, "application/x-www-form-urlencoded")


def posted(api, channel):
    return [m for m in api.calls_to("chat.postMessage") if m.get("channel") == channel]


def new_user():
    number = random.randint(10**5, 10**9)
    return f"U{number}", f"D{number}"


def answered(api, channel, count, what):
    api.wait_until(lambda: len(posted(api, channel)) >= count, what)
    return posted(api, channel)


def test_a_triage_conversation_over_slack(assistant, api):
    settings = assistant.settings
    user, channel = new_user()
    assert say(settings, user, channel, "hello") == 200
    greeting = answered(api, channel, 1, "the greeting")
    assert "triage assistant" in greeting[0]["text"]

    say(settings, user, channel, "my left foot has been numb for three weeks")
    api.wait_until(lambda: any(m.get("blocks") for m in posted(api, channel)), "a question with buttons")
    question = [m for m in posted(api, channel) if m.get("blocks")][-1]
    buttons = [e for block in question["blocks"] if block["type"] == "actions" for e in block["elements"]]
    assert {"type": "button", "text": {"type": "plain_text", "text": "None of those"}, "value": "None of those"} in buttons

    before = len(posted(api, channel))
    assert click(settings, user, channel, "None of those") == 200
    answered(api, channel, before + 1, "an answer to the button")
    say(settings, user, channel, "and now I can't control my bladder")
    api.wait_until(lambda: any(m.get("text", "").startswith("EMERGENCY: call 911") for m in posted(api, channel)),
                   "the emergency reply")
    assert not [m for m in posted(api, channel) if "triage" in m]  # the decision stays data

    eventually(lambda: transcript_of(assistant, user)[0].triage_level == "emergency", "an emergency transcript")
    (conversation,) = transcript_of(assistant, user)
    assert conversation.channel == "slack"
    said = [m.text for m in conversation.messages if m.speaker == "user"]
    assert said == ["hello", "my left foot has been numb for three weeks", "None of those",
                    "and now I can't control my bladder"]


def test_a_retry_is_acknowledged_and_not_answered_twice(assistant, api):
    user, channel = new_user()
    say(assistant.settings, user, channel, "hello")
    answered(api, channel, 1, "the greeting")
    assert say(assistant.settings, user, channel, "hello", retry=1) == 200
    say(assistant.settings, user, channel, "my leg is numb")  # the next message is answered after the retry
    answered(api, channel, 2, "the answer to the second message")
    eventually(lambda: "my leg is numb" in [m.text for m in transcript_of(assistant, user)[0].messages], "the transcript")
    said = [m.text for m in transcript_of(assistant, user)[0].messages if m.speaker == "user"]
    assert said == ["hello", "my leg is numb"]


@pytest.mark.parametrize("secret", ["not-the-signing-secret-0123456789", ""])
def test_a_request_with_a_wrong_signature_is_refused_and_leaves_no_trace(assistant, api, secret):
    user, channel = new_user()
    assert say(assistant.settings, user, channel, "my leg went numb an hour ago", secret=secret) == 400
    assert posted(api, channel) == []
    assert transcript_of(assistant, user) == []


def test_a_replayed_event_is_acknowledged_and_not_processed_again(assistant, api):
    user, channel = new_user()
    body = json.dumps(message_event(user, channel, "hello")).encode()
    assert signed_post(assistant.settings, body, "application/json") == 200
    answered(api, channel, 1, "the greeting")
    assert signed_post(assistant.settings, body, "application/json") == 200  # the same event_id, signed again
    say(assistant.settings, user, channel, "my leg is numb")  # answered after the replay would have been
    answered(api, channel, 2, "the answer to the second message")
    eventually(lambda: "my leg is numb" in [m.text for m in transcript_of(assistant, user)[0].messages], "the transcript")
    said = [m.text for m in transcript_of(assistant, user)[0].messages if m.speaker == "user"]
    assert said == ["hello", "my leg is numb"]


def test_a_badly_signed_event_is_refused_before_its_event_id_is_remembered(assistant, api):
    user, channel = new_user()
    body = json.dumps(message_event(user, channel, "hello")).encode()
    assert signed_post(assistant.settings, body, "application/json", secret="not-the-signing-secret-0123456789") == 400
    assert signed_post(assistant.settings, body, "application/json") == 200  # the genuine event is still processed
    answered(api, channel, 1, "the greeting")
    assert signed_post(assistant.settings, body, "application/json", secret="") == 400


def test_a_lone_surrogate_in_the_user_id_or_text_is_replaced_not_a_crash(assistant, api):
    user, channel = new_user()
    assert say(assistant.settings, user + "\udc00", channel, "hello \udc00") == 200  # json.dumps sends "\udc00"
    answered(api, channel, 1, "the greeting")
    eventually(lambda: transcript_of(assistant, user + "\ufffd"), "the transcript")
    (conversation,) = transcript_of(assistant, user + "\ufffd")
    assert [m.text for m in conversation.messages if m.speaker == "user"] == ["hello \ufffd"]


def test_the_record_of_event_ids_forgets_after_ten_minutes_and_keeps_at_most_its_size():
    from bot.channels.slack import RecentEvents

    now = [0.0]
    recent = RecentEvents(max_events=3, clock=lambda: now[0])
    assert recent.first_time("Ev1") and not recent.first_time("Ev1")
    now[0] = 601.0
    assert recent.first_time("Ev1")  # ten minutes on: forgotten
    for event_id in ("Ev2", "Ev3", "Ev4"):
        assert recent.first_time(event_id)
    assert len(recent._seen) == 3 and recent.first_time("Ev1")  # the oldest went first
