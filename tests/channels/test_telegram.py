"""Telegram end to end: the real Rasa server with our Telegram channel, real-shaped updates posted to
its webhook, and a fake Bot API server on 127.0.0.1 that records what the assistant sends back."""
from __future__ import annotations

import json
import random
import urllib.error
import urllib.request

import pytest

from bot.serve import Assistant
from bot.settings import Settings

from ..e2e.test_rest_conversation import MODEL
from ..store.conftest import TEST_PSEUDONYM_KEY
from ..store.databases import free_port
from ..store.test_rasa_transcripts import transcript_of
from .fake_api import api_fixture

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")
TOKEN = "123456789:TEST-token-for-the-fake-bot-api"
SECRET = "telegram-webhook-secret-0123456789"
USERNAME = "triage_test_bot"
PUBLIC_WEBHOOK = "https://triage.clinic.example/webhooks/telegram/webhook"


def bot_api(path, fields):
    method = path.rsplit("/", 1)[-1].lower()
    if method == "getme":
        return {"ok": True, "result": {"id": 123456789, "is_bot": True, "first_name": "Triage", "username": USERNAME}}
    if method == "sendmessage":
        chat = {"id": int(fields["chat_id"]), "type": "private"}
        return {"ok": True, "result": {"message_id": 1, "date": 1700000000, "chat": chat, "text": fields.get("text", "")}}
    if method == "setwebhook":
        return {"ok": True, "result": True, "description": "Webhook was set"}
    return {"ok": False, "error_code": 404, "description": "Not Found"}


def telegram_settings(data_dir, api_url):
    return Settings(
        rasa_port=free_port(), action_port=free_port(), data_dir=data_dir, tracker_db=data_dir / "tracker.db",
        model_path=MODEL, pseudonym_key=TEST_PSEUDONYM_KEY, telegram_token=TOKEN, telegram_webhook_secret=SECRET,
        telegram_bot_username=USERNAME, telegram_webhook_url=PUBLIC_WEBHOOK, telegram_api_url=api_url,
    )


api = api_fixture(bot_api)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, api):
    with Assistant(telegram_settings(tmp_path_factory.mktemp("telegram"), api.url), quiet=True) as running:
        yield running


def person(chat_id):
    return {"id": chat_id, "is_bot": False, "first_name": "Pat"}


def message_update(chat_id, text):
    chat = {"id": chat_id, "type": "private", "first_name": "Pat"}
    number = random.randint(1, 10**9)
    return {"update_id": number, "message": {"message_id": number, "date": 1700000000, "chat": chat,
                                             "from": person(chat_id), "text": text}}


def button_update(chat_id, data):
    chat = {"id": chat_id, "type": "private", "first_name": "Pat"}
    number = random.randint(1, 10**9)
    return {"update_id": number, "callback_query": {
        "id": str(number), "from": person(chat_id), "chat_instance": "1", "data": data,
        "message": {"message_id": number, "date": 1700000000, "chat": chat, "text": "a question"}}}


def post(settings, update, secret=SECRET):
    """update: what Telegram sends, as JSON; bytes are sent as they are."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    request = urllib.request.Request(settings.rasa_url + "/webhooks/telegram/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def sent_to(api, chat_id):
    return [m for m in api.calls_to("sendMessage") if m["chat_id"] == str(chat_id)]


def new_chat():
    return random.randint(10**6, 10**9)


def test_the_webhook_is_registered_with_the_secret_at_start_up(assistant, api):
    (registered,) = api.calls_to("setWebhook")[:1]
    assert registered == {"url": PUBLIC_WEBHOOK, "secret_token": SECRET}


def test_a_triage_conversation_over_telegram(assistant, api):
    chat = new_chat()
    assert post(assistant.settings, message_update(chat, "hello")) == 200
    assert "triage assistant" in sent_to(api, chat)[0]["text"]  # the webhook answers after the replies are sent

    post(assistant.settings, message_update(chat, "my left foot has been numb for three weeks"))
    question = sent_to(api, chat)[-1]
    keyboard = json.loads(question["reply_markup"])["inline_keyboard"]
    buttons = [button for row in keyboard for button in row]
    assert {"text": "None of those", "callback_data": "None of those"} in buttons

    before = len(sent_to(api, chat))
    assert post(assistant.settings, button_update(chat, "None of those")) == 200
    assert len(sent_to(api, chat)) > before
    post(assistant.settings, message_update(chat, "and now I can't control my bladder"))
    assert any(m["text"].startswith("EMERGENCY: call 911") for m in sent_to(api, chat)[before:])

    (conversation,) = transcript_of(assistant, str(chat))
    assert conversation.channel == "telegram" and conversation.triage_level == "emergency"
    said = [m.text for m in conversation.messages if m.speaker == "user"]
    assert said == ["hello", "my left foot has been numb for three weeks", "None of those",
                    "and now I can't control my bladder"]


@pytest.mark.parametrize("secret", [None, "", "not-the-webhook-secret-0123456789"])
def test_an_update_without_the_right_secret_is_refused_and_leaves_no_trace(assistant, api, secret):
    chat = new_chat()
    assert post(assistant.settings, message_update(chat, "my leg went numb an hour ago"), secret=secret) == 403
    assert sent_to(api, chat) == []
    assert transcript_of(assistant, str(chat)) == []


def test_the_assistant_starts_when_the_webhook_cannot_be_registered(tmp_path):
    settings = telegram_settings(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with Assistant(settings, quiet=True) as running:
        assert "could not register the webhook" in running.tail("rasa", lines=400)
        with urllib.request.urlopen(settings.rasa_url + "/webhooks/telegram/", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok"}


def updates_without_a_message(chat_id):
    chat = {"id": chat_id, "type": "private", "first_name": "Pat"}
    message = {"message_id": 7, "date": 1700000000, "chat": chat, "from": person(chat_id), "text": "my leg is numb"}
    member = {"user": person(chat_id), "status": "kicked", "until_date": 0}
    query = {"id": "9", "from": person(chat_id), "chat_instance": "1"}
    return {
        "blocked": {"update_id": 5, "my_chat_member": {"chat": chat, "from": person(chat_id), "date": 1700000000,
                                                        "old_chat_member": dict(member, status="member"),
                                                        "new_chat_member": member}},
        "edited": {"update_id": 6, "edited_message": dict(message, edit_date=1700000001)},
        "channel post": {"update_id": 7, "channel_post": dict(message, chat={"id": chat_id, "type": "channel"})},
        "button without data": {"update_id": 8, "callback_query": dict(query, message=message)},
        "button without its message": {"update_id": 9, "callback_query": dict(query, data="None of those")},
        "message with a bad chat": {"update_id": 10, "message": dict(message, chat=str(chat_id))},
        "not JSON": b"this is not an update",
        "empty": b"",
        "a JSON array": b"[1, 2, 3]",
        "JSON null": b"null",
    }


@pytest.mark.parametrize("kind", list(updates_without_a_message(0)))
def test_an_update_without_a_message_is_acknowledged_and_ignored(assistant, api, kind):
    chat = new_chat()
    before = len(api.calls_to("sendMessage"))
    assert post(assistant.settings, updates_without_a_message(chat)[kind]) == 200  # else Telegram retries it
    assert len(api.calls_to("sendMessage")) == before
    assert transcript_of(assistant, str(chat)) == []


@pytest.mark.parametrize("kind", ["blocked", "not JSON"])
def test_an_update_without_a_message_still_needs_the_secret(assistant, api, kind):
    assert post(assistant.settings, updates_without_a_message(new_chat())[kind], secret="wrong") == 403
