"""The widget's parts without servers: the origins setting, the socket.io output, the local bundle."""
from __future__ import annotations

import asyncio

import pytest

from bot.channels.socketio import EMERGENCY_CLASS, WidgetOutput, WidgetSocketIOInput
from bot.serve import rasa_env
from bot.settings import Settings, SettingsError
from bot.web.server import BUNDLE, WidgetNotInstalled, content_security_policy, local_bundle

from .browser import outside_requests


def test_allowed_origins_default_to_the_widget_page_itself():
    settings = Settings.from_env({"WEB_PORT": "5071"})
    assert settings.allowed_origins == ("http://127.0.0.1:5071", "http://localhost:5071")


def test_allowed_origins_are_a_comma_separated_list():
    env = {"ALLOWED_ORIGINS": " https://clinic.example, https://www.clinic.example:8443/ "}
    assert Settings.from_env(env).allowed_origins == ("https://clinic.example", "https://www.clinic.example:8443")


@pytest.mark.parametrize("bad", ["clinic.example", "ftp://clinic.example", "https://clinic.example/chat", "*"])
def test_an_origin_must_be_scheme_and_host(bad):
    with pytest.raises(SettingsError, match="ALLOWED_ORIGINS"):
        Settings.from_env({"ALLOWED_ORIGINS": bad})


def test_the_rasa_server_and_the_page_get_the_origins_and_addresses(tmp_path):
    settings = Settings(data_dir=tmp_path, tracker_db=tmp_path / "tracker.db", rasa_port=5999, web_port=5998)
    env = rasa_env(settings, base={})
    assert env["ALLOWED_ORIGINS"] == "http://127.0.0.1:5998,http://localhost:5998"
    read_back = Settings.from_env(env)
    assert (read_back.rasa_url, read_back.web_url) == (settings.rasa_url, settings.web_url)
    assert read_back.allowed_origins == settings.allowed_origins


def test_the_channel_reads_the_origins_and_the_widget_metadata_key(monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://clinic.example")
    channel = WidgetSocketIOInput.from_credentials({"session_persistence": True, "metadata_key": "customData"})
    assert channel.allowed_origins == ["https://clinic.example"]
    assert (channel.name(), channel.metadata_key, channel.session_persistence) == ("socketio", "customData", True)


class RecordingServer:
    def __init__(self):
        self.emitted = []

    async def emit(self, event, data=None, room=None, **kwargs):
        self.emitted.append((event, data, room))


def sent(message):
    sio = RecordingServer()
    asyncio.run(WidgetOutput(sio, "bot_uttered").send_response("session-1", message))
    assert {(event, room) for event, _, room in sio.emitted} == {("bot_uttered", "session-1")}
    return [data for _, data, _ in sio.emitted]


def test_an_emergency_reply_is_marked_and_its_decision_sent_as_data():
    triage = {"triage": {"level": "emergency", "rules": ["emergency.bladder_bowel_loss"]}}
    messages = sent({"text": "EMERGENCY: call 911 now.\n\nWhy: ...", "custom": triage})
    marked = {"customCss": {"style": "class", "css": EMERGENCY_CLASS}}
    assert messages == [
        {"text": "EMERGENCY: call 911 now.", "metadata": marked},
        {"text": "Why: ...", "metadata": marked},
        {"custom": triage},
    ]


def test_other_replies_keep_their_quick_replies_and_are_not_marked():
    messages = sent({"text": "Which leg?", "buttons": [{"title": "Left", "payload": "Left"}],
                     "custom": {"triage": {"level": "doctor"}}})
    assert messages == [
        {"text": "Which leg?", "quick_replies": [{"content_type": "text", "title": "Left", "payload": "Left"}]},
        {"custom": {"triage": {"level": "doctor"}}},
    ]
    assert sent({"text": "Hello"}) == [{"text": "Hello"}]


@pytest.mark.skipif(not BUNDLE.exists(), reason="needs `make web` (npm ci in bot/web)")
def test_the_bundle_is_served_without_its_outside_font():
    assert b"fonts.googleapis.com" in BUNDLE.read_bytes()  # the package as published imports it
    assert b"fonts.googleapis.com" not in local_bundle() and b"@import url(http" not in local_bundle()


def test_a_missing_bundle_says_how_to_install_it(tmp_path):
    with pytest.raises(WidgetNotInstalled, match="make web"):
        local_bundle(tmp_path / "index.js")


def test_the_page_may_only_talk_to_our_rasa_server():
    policy = content_security_policy(Settings(rasa_port=5999))
    assert "default-src 'none'" in policy
    assert "connect-src http://127.0.0.1:5999 ws://127.0.0.1:5999;" in policy


def test_the_request_check_tells_local_from_outside_addresses():
    urls = ["http://127.0.0.1:5070/", "ws://localhost:5005/socket.io/?EIO=4", "data:font/woff;base64,AAAA",
            "https://fonts.googleapis.com/css?family=Inter", "wss://cdn.example/socket"]
    assert outside_requests(urls) == ["https://fonts.googleapis.com/css?family=Inter", "wss://cdn.example/socket"]
