"""End to end: Rasa's HTTP API (trackers, model, parse) is off by default and needs the token
when RASA_API_TOKEN turns it on; the servers listen on loopback only unless configured."""
from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest

from bot.serve import Assistant, http_api_options
from bot.settings import Settings

from .support import MODEL, e2e_settings, get, new_sender, post, send, texts

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")
TOKEN = "api-token-for-the-tests-0123456789"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    with Assistant(e2e_settings(tmp_path_factory.mktemp("http-api")), quiet=True) as running:
        yield running


def api_calls(assistant, sender, query=""):
    """(method, path, status) for the HTTP API routes that read or change conversations and the model."""
    base = assistant.settings.rasa_url
    return [
        ("GET", "/status", get(f"{base}/status{query}")[0]),
        ("GET", "/conversations/<id>/tracker", get(f"{base}/conversations/{sender}/tracker{query}")[0]),
        ("GET", "/conversations/<id>/story", get(f"{base}/conversations/{sender}/story{query}")[0]),
        ("POST", "/model/parse", post(f"{base}/model/parse{query}", {"text": "my leg is numb"})[0]),
        ("POST", "/conversations/<id>/messages",
         post(f"{base}/conversations/{sender}/messages{query}", {"text": "hi", "sender": "user"})[0]),
        ("POST", "/conversations/<id>/tracker/events",
         post(f"{base}/conversations/{sender}/tracker/events{query}", {"event": "restart"})[0]),
    ]


def listening_address(port: int) -> set:
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], check=True, capture_output=True, text=True).stdout
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()}


def test_by_default_the_api_is_off_and_the_servers_listen_on_loopback_only(assistant):
    assert Settings.from_env({}).rasa_host == "127.0.0.1" and Settings.from_env({}).rasa_api_token is None
    assert http_api_options(Settings.from_env({})) == []
    sender = new_sender("api-off")
    assert texts(send(assistant, sender, "my leg is numb"))  # the chat channel works
    status, hello = get(assistant.settings.rasa_url + "/")
    assert status == 200 and "Hello from Rasa" in hello
    for method, path, status in api_calls(assistant, sender):
        assert status in (404, 405), (method, path, status)
    assert listening_address(assistant.settings.rasa_port) == {"127.0.0.1"}
    assert listening_address(assistant.settings.action_port) == {"127.0.0.1"}


def test_with_a_token_the_api_answers_only_with_the_token(assistant):
    assistant.settings = replace(assistant.settings, rasa_api_token=TOKEN)
    assistant.restart("rasa")
    sender = new_sender("api-on")
    send(assistant, sender, "my leg is numb")
    for query in ("", "?token=wrong-token-0123456789"):
        for method, path, status in api_calls(assistant, sender, query):
            assert status in (401, 403), (method, path, query, status)
    status, tracker = get(f"{assistant.settings.rasa_url}/conversations/{sender}/tracker?token={TOKEN}")
    assert status == 200 and tracker["sender_id"] == sender
    assert any(event.get("text") == "my leg is numb" for event in tracker["events"])
    assert get(f"{assistant.settings.rasa_url}/status?token={TOKEN}")[0] == 200
    status, parsed = post(f"{assistant.settings.rasa_url}/model/parse?token={TOKEN}", {"text": "my leg is numb"})
    assert status == 200 and parsed["text"] == "my leg is numb"
    assert listening_address(assistant.settings.rasa_port) == {"127.0.0.1"}
