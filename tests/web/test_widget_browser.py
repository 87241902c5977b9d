"""The website widget in real Chromium against the real servers (bot.serve.Assistant with web=True).

A triage conversation through rasa-webchat (typed answers and a quick-reply button), an emergency
that stands out, a reload that keeps the conversation (in the page and in Rasa), the transcript
stored with its channel and the widget's metadata, and not one request outside 127.0.0.1.
"""
from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.serve import Assistant
from bot.settings import PROJECT_ROOT, Settings

from ..store.conftest import TEST_PSEUDONYM_KEY
from ..store.databases import free_port
from ..store.test_rasa_transcripts import transcript_of
from .browser import outside_requests, require_chromium, requested_urls, start_recording_chromium, stop_chromium

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
SCREENSHOT = PROJECT_ROOT / "var" / "screenshots" / "widget-emergency.png"
WAIT_S = 60
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")

FIRST = "my left foot has been numb for three weeks, worse when I sit, and I'm diabetic"
EMERGENCY = "and now I can't control my bladder"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("widget")
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), web_port=free_port(),
        data_dir=data_dir, tracker_db=data_dir / "tracker.db", model_path=MODEL, pseudonym_key=TEST_PSEUDONYM_KEY,
    )
    with Assistant(settings, quiet=True, web=True) as running:
        yield running


@pytest.fixture()
def browser(assistant, tmp_path):
    driver = start_recording_chromium(tmp_path)
    yield driver
    stop_chromium(driver)


def wait(driver, condition, message):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(condition, message)


def bot_texts(driver, selector=".rw-response"):
    """The texts of the bot's bubbles, read in one go (React re-renders them under our feet)."""
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim())", selector
    )
    return [t for t in texts if t]  # a bubble can be empty while the widget is still rendering it


def send_and_wait(driver, text):
    """Types a message into the widget and waits until the bot has answered it."""
    before = len(bot_texts(driver))
    driver.find_element("css selector", ".rw-new-message").send_keys(text + "\n")
    wait(driver, lambda d: len(bot_texts(d)) > before, f"no reply to {text!r}")


def click_quick_reply(driver, title):
    xpath = f"//*[contains(@class, 'rw-reply')][normalize-space()={json.dumps(title)}]"
    button = wait(driver, lambda d: d.find_elements("xpath", xpath), f"no quick reply {title!r}")[0]
    before = len(bot_texts(driver))
    button.click()
    wait(driver, lambda d: len(bot_texts(d)) > before, f"no reply to the quick reply {title!r}")


def emergency_bubbles(driver):
    return bot_texts(driver, ".rw-response.triage-emergency")


def emergency_colour(driver):
    return driver.execute_script(
        "return getComputedStyle(document.querySelector('.rw-response.triage-emergency')).backgroundColor"
    )


def test_a_triage_conversation_in_the_widget(assistant, browser):
    settings = assistant.settings
    browser.get(settings.web_url + "/")
    wait(browser, lambda d: d.find_elements("css selector", ".rw-launcher"), "the widget did not connect").__getitem__(0).click()
    wait(browser, lambda d: any("triage assistant" in t for t in bot_texts(d)), "no greeting")

    send_and_wait(browser, FIRST)
    click_quick_reply(browser, "None of those")
    for answer in ["Gradually", "All the time", "Nothing else"]:
        send_and_wait(browser, answer)
    wait(browser, lambda d: any("peripheral neuropathy" in t for t in bot_texts(d)), "no see-a-doctor result")
    assert not emergency_bubbles(browser)

    send_and_wait(browser, EMERGENCY)
    wait(browser, lambda d: emergency_bubbles(d), "the emergency reply is not marked")
    wait(browser, lambda d: "loss of bladder and/or bowel control" in " ".join(emergency_bubbles(d)), "no reason quoted")
    assert emergency_bubbles(browser)[0].startswith("EMERGENCY: call 911")
    assert emergency_colour(browser) == "rgb(176, 0, 32)"  # #b00020, widget.css
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
    session_id = browser.execute_script("return JSON.parse(window.localStorage.getItem('chat_session')).session_id")
    shown_before = bot_texts(browser)

    browser.refresh()
    wait(browser, lambda d: emergency_bubbles(d), "the conversation was not kept over the reload")
    assert bot_texts(browser) == shown_before
    send_and_wait(browser, "ok thanks")  # Rasa kept the session too: it reminds of the emergency
    wait(browser, lambda d: bot_texts(d)[-1].startswith("Reminder:"), "Rasa did not keep the session")

    (conversation,) = transcript_of(assistant, session_id)
    assert conversation.channel == "socketio"
    assert (conversation.triage_level, conversation.emergency) == ("emergency", True)
    said = [m.text for m in conversation.messages if m.speaker == "user"]
    assert said == ["hello", FIRST, "None of those", "Gradually", "All the time", "Nothing else", EMERGENCY, "ok thanks"]
    with sqlite3.connect(Path(settings.tracker_db)) as db:
        rows = db.execute("select data from events where sender_id = ? and type_name = 'user'", (session_id,)).fetchall()
    metadata = json.loads(rows[-1][0])["metadata"]  # the widget's customData, as Rasa's message metadata
    assert metadata["language"] == "en" and metadata["page"] == settings.web_url + "/"

    urls = requested_urls(browser)
    assert settings.web_url + "/webchat.js" in urls  # the recorder saw the page's requests...
    assert any(u.startswith(settings.rasa_url.replace("http", "ws") + "/socket.io/") for u in urls)  # ...and its socket
    assert outside_requests(urls) == []


def engine_io_handshake(settings, origin):
    request = urllib.request.Request(settings.rasa_url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": origin})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Access-Control-Allow-Origin")
    except urllib.error.HTTPError as error:
        return error.code, None


def test_the_socket_is_open_to_the_allowed_origins_only(assistant):
    settings = assistant.settings
    assert engine_io_handshake(settings, settings.web_url) == (200, settings.web_url)
    assert engine_io_handshake(settings, "http://clinic.example")[0] == 400
    assert engine_io_handshake(settings, f"http://127.0.0.1:{settings.rasa_port + 1}")[0] == 400


def test_the_widget_page_serves_our_files_and_nothing_else(assistant):
    with urllib.request.urlopen(assistant.settings.web_url + "/webchat.js", timeout=10) as response:
        bundle = response.read()
        policy = response.headers["Content-Security-Policy"]
    assert b"WebChat" in bundle and b"fonts.googleapis.com" not in bundle
    assert "script-src 'self'" in policy and f"connect-src {assistant.settings.rasa_url}" in policy
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(assistant.settings.web_url + "/../settings.py", timeout=10)
    assert missing.value.code == 404
