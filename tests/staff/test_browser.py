"""The staff app in real Chromium, against the real server (`python -m bot.staff serve`, waitress).

Signs in, filters, opens a transcript, marks it reviewed, exports; a wrong password; a reviewer
kept out of the admin pages; hostile text (script tags, event handlers, attribute break-outs) in
messages, notes, the search box and the login link shows as text and runs nothing. Screenshots of
the list and the transcript go to var/screenshots and are checked: the right size, not blank, and showing the emergency red.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from bot.settings import PROJECT_ROOT
from bot.staff.accounts import add_user
from bot.store.database import make_engine, make_session_factory, transaction

from ..store.conftest import TEST_PSEUDONYM_KEY
from ..store.databases import TestDatabase, free_port
from .browser import WINDOW, require_chromium, start_chromium, stop_chromium
from .conftest import ADMIN, REVIEWER, STAFF_SECRET
from .seed import HOSTILE_MESSAGES, SCRIPT_MESSAGE, seed, seed_hostile

SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
EMERGENCY_RED = (179, 38, 30)  # --emergency in staff.css
WAIT_S = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    root = tmp_path_factory.mktemp("staff-browser")
    database = TestDatabase.sqlite(root)
    from bot.store.migrate import upgrade_to_head

    upgrade_to_head(database.url)
    ids = seed(database.url)
    ids["hostile"] = seed_hostile(database.url)
    engine = make_engine(database.url)
    with transaction(make_session_factory(engine)) as session:
        add_user(session, ADMIN[0], "admin", ADMIN[1])
        add_user(session, REVIEWER[0], "reviewer", REVIEWER[1])
    engine.dispose()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": database.url,
           "TRIAGE_DATA_DIR": str(root / "data"), "STAFF_PORT": str(port), "STAFF_SECRET_KEY": STAFF_SECRET,
           "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY}
    log = open(root / "staff.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "bot.staff", "serve"], env=env, cwd=PROJECT_ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the staff app did not start:\n" + (root / "staff.log").read_text())
            time.sleep(0.2)
    yield base, ids
    process.terminate()
    process.wait(timeout=15)
    log.close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    require_chromium()
    downloads = tmp_path_factory.mktemp("downloads")
    driver = start_chromium(downloads)
    driver.downloads = downloads
    yield driver
    stop_chromium(driver)


@pytest.fixture
def browser(chromium, server):
    """A signed-out browser for each test."""
    chromium.delete_all_cookies()
    yield chromium
    chromium.delete_all_cookies()


def wait_for(driver, condition):
    """Until the condition holds; an element that went away with the old page just means "not yet"."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(driver, WAIT_S, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    return waiting.until(condition)


def sign_in(driver, base, name, password):
    from selenium.webdriver.common.by import By

    driver.get(base + "/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # Signed in: we are off the login page. Refused: the login page comes back with the reason.
    wait_for(driver, lambda d: "/login" not in d.current_url or d.find_elements(By.CSS_SELECTOR, ".alert-error"))


def screenshot(driver, name: str) -> Path:
    """The whole page, at the window's width."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WINDOW[0], max(WINDOW[1], min(height + 120, 4000)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    driver.save_screenshot(str(path))
    driver.set_window_size(*WINDOW)
    return path


def assert_looks_like_a_page_with_an_emergency(path: Path) -> None:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        assert width == WINDOW[0] and height >= 600
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50, "a blank or nearly blank screenshot"
        red = sum(count for count, colour in colours if all(abs(a - b) <= 12 for a, b in zip(colour, EMERGENCY_RED)))
        assert red > 500, "no emergency red on the page"


def test_a_wrong_password_is_refused(browser, server):
    from selenium.webdriver.common.by import By

    base, _ids = server
    sign_in(browser, base, "ann", "definitely not it")
    assert "Wrong name or password." in browser.find_element(By.CSS_SELECTOR, ".alert-error").text
    assert browser.current_url.startswith(base + "/login")


def test_a_reviewer_is_kept_out_of_the_admin_pages(browser, server):
    from selenium.webdriver.common.by import By

    base, _ids = server
    sign_in(browser, base, *REVIEWER)
    assert "Audit log" not in browser.find_element(By.CSS_SELECTOR, "header").text
    browser.get(base + "/admin/audit")
    assert "This page is for administrators." in browser.find_element(By.TAG_NAME, "main").text


def test_sign_in_filter_open_review_and_export(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, ids = server
    sign_in(browser, base, *ADMIN)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.conversations tbody tr")
    assert "flagged" in rows[0].get_attribute("class") and "emergency" in rows[0].text.lower()
    assert_looks_like_a_page_with_an_emergency(screenshot(browser, "conversations.png"))

    Select(browser.find_element(By.NAME, "level")).select_by_value("emergency")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait_for(browser, lambda d: "level=emergency" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.conversations tbody tr")
    assert len(rows) == 2 and all("Emergency" in row.text for row in rows)

    rows[0].find_element(By.CSS_SELECTOR, "a").click()
    wait_for(browser, lambda d: d.current_url.endswith(f"/conversations/{ids['emergency']}"))
    bubbles = [b.text for b in browser.find_elements(By.CSS_SELECTOR, ".bubble.user .text")]
    assert SCRIPT_MESSAGE in bubbles  # shown as the text it is, never run
    assert "hacked" != browser.find_element(By.TAG_NAME, "body").text
    flagged = browser.find_elements(By.CSS_SELECTOR, ".red-flag-reason")
    assert len(flagged) == 2 and "loss of bladder and/or bowel control" in flagged[0].text
    assert_looks_like_a_page_with_an_emergency(screenshot(browser, "transcript.png"))

    browser.find_element(By.ID, "mark-reviewed").click()
    wait_for(browser, lambda d: "Reviewed by ann" in d.find_element(By.CSS_SELECTOR, ".facts").text)

    browser.find_element(By.LINK_TEXT, "JSON").click()
    exported = browser.downloads / f"conversation-{ids['emergency']}.json"
    wait_for(browser, lambda d: exported.exists() and exported.stat().st_size > 0)
    (conversation,) = json.loads(exported.read_text())["conversations"]
    assert conversation["id"] == ids["emergency"] and conversation["triage_level"] == "emergency"

    browser.get(base + "/admin/audit")
    audit = browser.find_element(By.CSS_SELECTOR, "table.audit").text
    assert f"exported conversation {ids['emergency']}" in audit and f"reviewed conversation {ids['emergency']}" in audit
    browser.get(base + "/conversations")
    assert not browser.find_elements(By.CSS_SELECTOR, "tr.flagged")  # reviewed: no longer held at the top


def assert_nothing_ran(driver, title: str) -> None:
    """No script ran and no element came out of anyone's text.

    The staff pages have no script of their own (CSP script-src 'none'), so any <script> in the DOM
    came from text that was not escaped; checked in the DOM, not only by the CSP blocking it.
    """
    from selenium.common.exceptions import NoAlertPresentException

    assert driver.title == title and "pwned" not in driver.title
    injected = driver.execute_script(
        "return document.scripts.length + document.querySelectorAll("
        "'img, svg, [onerror], [onload], [onfocus], [autofocus]:not([name=name])').length"
    )
    assert injected == 0
    try:
        driver.switch_to.alert
        raise AssertionError("an alert opened")
    except NoAlertPresentException:
        pass


def test_hostile_text_shows_as_text_and_runs_nothing(browser, server):
    from selenium.webdriver.common.by import By

    base, ids = server
    sign_in(browser, base, *ADMIN)
    browser.get(f"{base}/conversations/{ids['hostile']}")
    title = f"Conversation {ids['hostile']} · Leg-numbness triage review"
    bubbles = [b.text for b in browser.find_elements(By.CSS_SELECTOR, ".bubble.user .text")]
    assert bubbles == list(HOSTILE_MESSAGES)
    assert_nothing_ran(browser, title)

    # A note a colleague wrote is text too.
    note = HOSTILE_MESSAGES[0] + " " + HOSTILE_MESSAGES[1]
    browser.find_element(By.NAME, "text").send_keys(note)
    browser.find_element(By.CSS_SELECTOR, "#notes button[type=submit]").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#notes .note .text"))
    assert [n.text for n in browser.find_elements(By.CSS_SELECTOR, "#notes .note .text")] == [note]
    assert_nothing_ran(browser, title)

    # The search box gives back exactly what was typed, without breaking out of its attribute.
    browser.get(base + "/conversations")
    browser.find_element(By.NAME, "q").send_keys(HOSTILE_MESSAGES[1])
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait_for(browser, lambda d: "q=" in d.current_url)
    assert browser.find_element(By.NAME, "q").get_attribute("value") == HOSTILE_MESSAGES[1]
    assert_nothing_ran(browser, "Conversations · Leg-numbness triage review")


def test_a_hostile_link_to_the_login_page_runs_nothing(browser, server):
    from urllib.parse import quote

    from selenium.webdriver.common.by import By

    base, _ids = server
    browser.get(f"{base}/login?next={quote(HOSTILE_MESSAGES[1])}")
    assert browser.find_element(By.NAME, "next").get_attribute("value") == HOSTILE_MESSAGES[1]
    assert_nothing_ran(browser, browser.title)
    assert browser.title.endswith("Leg-numbness triage review")
