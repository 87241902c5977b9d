"""The staff pages for keyboard and large-text users: a skip link first, one 3px focus ring
everywhere, and at 200% zoom only the conversation table scrolls sideways, inside its own region."""
from __future__ import annotations

from ..web.test_accessibility import (
    ZOOM_200, assert_focus_ring, assert_no_blocking_violation, axe_violations, focused, horizontal_overflow, press,
    screenshot, tab_to,
)
from .test_accessibility import keyboard, sign_in_with_the_keyboard  # noqa: F401 (fixture)
from .test_browser import browser, chromium, server  # noqa: F401 (fixtures)

def test_the_conversation_list_at_200_percent_zoom_scrolls_only_its_table(keyboard, server):  # noqa: F811
    base, _ids = server
    sign_in_with_the_keyboard(keyboard, base)
    keyboard.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", ZOOM_200)
    try:
        keyboard.get(base + "/conversations")
        page = horizontal_overflow(keyboard)
        assert page["scrollWidth"] <= page["clientWidth"], page  # the page itself does not scroll sideways
        region = keyboard.execute_script("""
          const box = document.querySelector(".table-scroll");
          return {role: box.getAttribute("role"), name: box.getAttribute("aria-label"), tabindex: box.tabIndex,
                  scrolls: box.scrollWidth > box.clientWidth, right: box.getBoundingClientRect().right};
        """)
        assert region["role"] == "region" and region["name"] and region["tabindex"] == 0, region
        assert region["right"] <= 640 and region["scrolls"], region  # the table scrolls in its own box...
        assert_focus_ring(tab_to(keyboard, lambda s: "table-scroll" in s["cls"], limit=60))  # ...reached with Tab
        screenshot(keyboard, "staff-conversations-zoom-200.png")
        assert_no_blocking_violation("staff-conversations-zoom-200", axe_violations(keyboard))
    finally:
        keyboard.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_skip_link_comes_first_and_takes_the_focus_past_the_menus(keyboard, server):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    base, ids = server
    sign_in_with_the_keyboard(keyboard, base)
    keyboard.get(f"{base}/conversations/{ids['doctor']}")
    first = tab_to(keyboard, lambda s: True)
    assert (first["text"], first["href"]) == ("Skip to the content", "#content")
    assert_focus_ring(first)
    assert keyboard.execute_script("return document.activeElement.getBoundingClientRect().top") >= 0  # shown when focused
    press(keyboard, Keys.ENTER)
    assert focused(keyboard)["tag"] == "main"
    after = tab_to(keyboard, lambda s: True)  # the next stop is in the page's content, not the top bar
    assert keyboard.execute_script("return document.querySelector('main').contains(document.activeElement)"), after


def test_every_stop_shows_a_ring_of_the_app_s_own(keyboard, server):  # noqa: F811
    """A 3px ring from staff.css on every stop (Chromium's own thin ring is dark on the dark top bar)."""
    base, _ids = server
    sign_in_with_the_keyboard(keyboard, base)
    stops = []

    def seen(stop):
        if stop["tag"] == "input" and stop["type"] == "date" and not stop["focusVisible"]:
            return  # the date field's calendar button, inside its shadow DOM (see test_accessibility.py)
        stops.append(stop)
        assert_focus_ring(stop, min_width=3)
        assert stop["outline"] == "solid"

    tab_to(keyboard, lambda s: s["text"] == "Clear", each=seen, limit=60)
    assert {"Skip to the content", "Conversations", "Sign out", "Apply"} <= {s["text"] for s in stops}
    keyboard.get(base + "/conversations")
    tab_to(keyboard, lambda s: s["text"] == "Conversations")
    assert keyboard.execute_script("return getComputedStyle(document.activeElement).outlineColor") == "rgb(255, 255, 255)"
