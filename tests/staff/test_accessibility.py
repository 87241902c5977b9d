"""The staff app for keyboard, screen-reader and large-text users, in real Chromium against the real
server (`python -m bot.staff serve`, started and seeded as tests/staff/test_browser.py does).

axe-core's WCAG 2.1 A/AA rules on the sign-in page, the conversation list, a transcript, the
accounts and the audit log (none serious or critical); signing in, opening a conversation, marking
it reviewed and signing out with Tab and Enter alone, each stop showing a focus ring; the pages at
200% zoom (emulated as in tests/web/test_accessibility.py) without sideways scrolling, except the
conversation list, whose fix waits in tests/staff/test_accessibility_pending.py.
Screenshots and axe's findings go to var/screenshots/accessibility/.
"""
from __future__ import annotations

import pytest

from ..web.test_accessibility import (
    ZOOM_200, assert_focus_ring, assert_no_blocking_violation, axe_violations, horizontal_overflow, press,
    require_axe, screenshot, tab_to,
)
from .conftest import ADMIN
from .test_browser import browser, chromium, server, wait_for  # noqa: F401 (fixtures)

PAGES = {  # name: path (conversation ids from tests/staff/seed.py)
    "staff-conversations": "/conversations",
    "staff-transcript": "/conversations/{emergency}",
    "staff-accounts": "/admin/users",
    "staff-audit": "/admin/audit",
    "staff-dashboard": "/dashboard",
}


@pytest.fixture
def keyboard(browser):  # noqa: F811 (the fixture imported above)
    require_axe()
    yield browser


def sign_in_with_the_keyboard(driver, base, each=None) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.get(base + "/login")
    # The name field has autofocus; Chromium may skip it (it did in a tab that had focused other pages),
    # and a person then tabs to it.
    if not name_field_focused(driver, wait_s=2):
        tab_to(driver, lambda s: s["field"] == "name", each=each)
    assert driver.switch_to.active_element.get_attribute("name") == "name"
    press(driver, ADMIN[0], Keys.TAB, ADMIN[1])
    assert_focus_ring(tab_to(driver, lambda s: s["text"] == "Sign in", each=each), min_width=1)
    press(driver, Keys.ENTER)
    wait_for(driver, lambda d: "/login" not in d.current_url)


def name_field_focused(driver, wait_s: float) -> bool:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, wait_s).until(lambda d: d.switch_to.active_element.get_attribute("name") == "name")
        return True
    except TimeoutException:
        return False


def ring_unless_inside_a_date_field(stop: dict) -> None:
    """Chromium's date field has inner stops (day, month, year, the calendar button) in its own shadow DOM:
    the calendar button draws its own ring there, which the page's computed style cannot see."""
    if stop["tag"] == "input" and stop["type"] == "date" and not stop["focusVisible"]:
        return
    assert_focus_ring(stop, min_width=1)  # Chromium's own ring (outline: auto) until staff.css draws one


def test_axe_finds_nothing_serious_or_critical_on_the_staff_pages(keyboard, server):  # noqa: F811
    base, ids = server
    keyboard.get(base + "/login")
    assert_no_blocking_violation("staff-login", axe_violations(keyboard))
    sign_in_with_the_keyboard(keyboard, base)
    for name, path in PAGES.items():
        keyboard.get(base + path.format(**ids))
        assert_no_blocking_violation(name, axe_violations(keyboard))


def test_sign_in_open_mark_reviewed_and_sign_out_with_the_keyboard_alone(keyboard, server):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, ids = server
    stops = []

    def seen(stop):
        stops.append(stop)
        ring_unless_inside_a_date_field(stop)

    sign_in_with_the_keyboard(keyboard, base, each=seen)
    assert keyboard.current_url.startswith(base + "/conversations")

    link = f"/conversations/{ids['doctor']}"
    assert_focus_ring(tab_to(keyboard, lambda s: s["href"] == link, each=seen, limit=60), min_width=1)
    assert {"Conversations", "Audit log", "Accounts", "Sign out", "Apply", "Clear"} <= {s["text"] for s in stops}
    screenshot(keyboard, "staff-keyboard-focus.png")
    press(keyboard, Keys.ENTER)
    wait_for(keyboard, lambda d: d.current_url.endswith(link))

    assert_focus_ring(tab_to(keyboard, lambda s: s["id"] == "mark-reviewed", each=seen), min_width=1)
    press(keyboard, Keys.ENTER)
    wait_for(keyboard, lambda d: "Reviewed by ann" in d.find_element(By.CSS_SELECTOR, ".facts").text)

    assert_focus_ring(tab_to(keyboard, lambda s: s["text"] == "Sign out", each=seen), min_width=1)
    press(keyboard, Keys.ENTER)
    wait_for(keyboard, lambda d: "/login" in d.current_url)
    assert keyboard.find_elements(By.NAME, "password")


@pytest.mark.parametrize("name, path", [("staff-login", "/login")] + [
    (name, path) for name, path in PAGES.items() if name != "staff-conversations"  # in test_accessibility_layout.py
])
def test_the_staff_pages_at_200_percent_zoom_do_not_scroll_sideways(keyboard, server, name, path):  # noqa: F811
    base, ids = server
    if name != "staff-login":
        sign_in_with_the_keyboard(keyboard, base)
    keyboard.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", ZOOM_200)
    try:
        keyboard.get(base + path.format(**ids))
        assert keyboard.execute_script("return [window.innerWidth, window.devicePixelRatio]") == [640, 2]
        page = horizontal_overflow(keyboard)
        assert page["scrollWidth"] <= page["clientWidth"] and page["wider"] == [], page
        screenshot(keyboard, f"{name}-zoom-200.png")
        assert_no_blocking_violation(f"{name}-zoom-200", axe_violations(keyboard))
    finally:
        keyboard.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
