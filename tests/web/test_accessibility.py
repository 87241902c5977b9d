"""The widget page for keyboard, screen-reader and large-text users, in real Chromium against the
real servers (the whole assistant, as tests/web/test_widget_browser.py starts it).

axe-core (bot/web/node_modules, installed by `make web` from bot/web/package-lock.json) is read
from disk and run in the page against the WCAG 2.1 A and AA rules; no violation of impact serious
or critical is allowed anywhere on the page, inside the rasa-webchat widget included (what
bot/web/static/widget.js mends there is listed in its header). A conversation is held with the
keyboard alone (open, send, pick a quick reply, close), every keyboard stop shows a focus ring,
the emergency reply reaches the assertive live region (checked in Chromium's accessibility tree),
and the page at 200% zoom does not scroll sideways.

200% zoom is emulated with DevTools (Emulation.setDeviceMetricsOverride): a 640 x 500 CSS-pixel
viewport at a device scale factor of 2, which is what a 1280 x 1000 window shows at 200% browser
zoom. Screenshots and axe's findings go to var/screenshots/accessibility/.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from bot.settings import PROJECT_ROOT

from ..staff.browser import WINDOW
from .browser import start_chromium, stop_chromium
from .test_widget_browser import EMERGENCY, FIRST, MODEL, assistant, bot_texts, emergency_bubbles, wait  # noqa: F401

AXE = PROJECT_ROOT / "bot" / "web" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "accessibility"
ZOOM_200 = {"width": WINDOW[0] // 2, "height": WINDOW[1] // 2, "deviceScaleFactor": 2, "mobile": False}
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")

AXE_RUN = """
const [context, tags, done] = arguments;
axe.run(context, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then((result) => done(result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target, html: n.html.slice(0, 300), summary: n.failureSummary})),
  }))))
  .catch((error) => done({error: String(error)}));
"""
FOCUSED = """
const e = document.activeElement, s = getComputedStyle(e);
return {tag: e.tagName.toLowerCase(), cls: String(e.className || ""), id: e.id, name: e.getAttribute("aria-label") || "",
        href: e.getAttribute("href") || "", type: e.getAttribute("type") || "", field: e.getAttribute("name") || "",
        text: (e.innerText || e.value || "").trim().slice(0, 80), outline: s.outlineStyle,
        outlineWidth: parseFloat(s.outlineWidth) || 0, boxShadow: s.boxShadow, focusVisible: e.matches(":focus-visible")};
"""


# --- axe-core, shared with tests/staff/test_accessibility.py -----------------------------------------

def require_axe() -> None:
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `make web` (npm ci in bot/web)")


def axe_violations(driver, context: Optional[dict] = None) -> List[dict]:
    """axe-core's WCAG 2.1 A/AA violations in the page as it is now (context: axe's include/exclude)."""
    require_axe()
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    found = driver.execute_async_script(AXE_RUN, context or {"exclude": []}, WCAG_21_AA)
    assert not isinstance(found, dict), f"axe failed: {found}"
    return found


def by_impact(violations: List[dict]) -> Dict[str, int]:
    """Rules violated, by impact (each rule once, however many elements break it)."""
    counts = {impact: 0 for impact in ("critical", "serious", "moderate", "minor")}
    for violation in violations:
        counts[violation["impact"] or "minor"] += 1
    return counts


def record(name: str, violations: List[dict]) -> Dict[str, int]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    counts = by_impact(violations)
    (SHOTS / f"axe-{name}.json").write_text(json.dumps({"by_impact": counts, "violations": violations}, indent=1))
    return counts


def assert_no_blocking_violation(name: str, violations: List[dict]) -> None:
    record(name, violations)
    blocking = [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}"
                for v in violations if v["impact"] in BLOCKING]
    assert blocking == [], f"{name}: " + "; ".join(blocking)


# --- the keyboard ----------------------------------------------------------------------------------

def press(driver, *keys) -> None:
    """Keys to whatever has the focus, as a person types them (no element is clicked or focused by script)."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def focused(driver) -> dict:
    return driver.execute_script(FOCUSED)


def tab_to(driver, matches, backwards: bool = False, limit: int = 40, each=None) -> dict:
    """Tab (or Shift+Tab) until the focused element matches; fails if it never comes. each(stop) sees every stop."""
    from selenium.webdriver.common.keys import Keys

    seen = []
    for _ in range(limit):
        if backwards:
            from selenium.webdriver.common.action_chains import ActionChains

            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            press(driver, Keys.TAB)
        now = focused(driver)
        if each is not None:
            each(now)
        if matches(now):
            return now
        seen.append(now["cls"] or now["tag"])
    raise AssertionError(f"never reached with the keyboard; stops were {seen}")


def assert_focus_ring(stop: dict, min_width: float = 3) -> None:
    """The focused element shows a ring: a real outline of at least min_width (our CSS), on :focus-visible."""
    assert stop["focusVisible"], f"{stop} is not :focus-visible"
    assert stop["outline"] not in ("none", "hidden") and stop["outlineWidth"] >= min_width, f"no visible focus ring on {stop}"


def has_class(name: str):
    return lambda stop: name in stop["cls"].split()


def screenshot(driver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000, f"{path} looks blank"
    return path


def accessibility_node(driver, selector: str) -> dict:
    """What Chromium gives assistive technology for the element: its role, name and live-region properties."""
    document = driver.execute_cdp_cmd("DOM.getDocument", {"depth": 0})
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector})
    assert node["nodeId"], f"no {selector} in the page"
    tree = driver.execute_cdp_cmd("Accessibility.getPartialAXTree", {"nodeId": node["nodeId"], "fetchRelatives": False})
    (mine,) = [n for n in tree["nodes"] if not n.get("ignored")][:1]
    properties = {p["name"]: p["value"].get("value") for p in mine.get("properties", [])}
    return {"role": mine["role"]["value"], "name": mine.get("name", {}).get("value", ""), **properties}


def announced(driver) -> str:
    """The lines written into the emergency live region, one a line."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#triage-emergency-announcer p')).map(p => p.textContent).join('\\n')"
    )


def same_words(a: str, b: str) -> bool:
    """The same words in the same order (the bubbles render Markdown: list dashes and the like go)."""
    return re.findall(r"\w+", a) == re.findall(r"\w+", b)


# --- the tests ---------------------------------------------------------------------------------------

@pytest.fixture()
def browser(assistant, tmp_path):  # noqa: F811 (the fixture imported above)
    require_axe()
    driver = start_chromium(tmp_path)
    yield driver
    stop_chromium(driver)


def open_page(driver, settings) -> None:
    driver.get(settings.web_url + "/")
    wait(driver, lambda d: d.find_elements("css selector", ".rw-launcher"), "the widget did not load")


def wait_for_reply(driver, before: int, what: str) -> None:
    wait(driver, lambda d: len(bot_texts(d)) > before, f"no reply to {what}")


def test_a_conversation_with_the_keyboard_alone_and_the_emergency_read_out(assistant, browser):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.keys import Keys

    open_page(browser, assistant.settings)
    assert_no_blocking_violation("widget-closed", axe_violations(browser))
    assert_focus_ring(tab_to(browser, has_class("rw-launcher")))
    assert accessibility_node(browser, ".rw-launcher")["name"] == "Open the triage chat"

    press(browser, Keys.ENTER)  # opens the chat; the widget puts the focus in the message box
    wait(browser, lambda d: d.find_elements("css selector", ".rw-widget-container.rw-chat-open"), "Enter did not open the chat")
    wait(browser, lambda d: any("triage assistant" in t for t in bot_texts(d)), "no greeting")
    wait(browser, lambda d: has_class("rw-new-message")(focused(d)), "the focus is not in the message box")
    assert_focus_ring(focused(browser))
    assert accessibility_node(browser, ".rw-messages-container")["role"] == "log"  # replies are read out as they come
    assert_no_blocking_violation("widget-open", axe_violations(browser))

    # Every stop of the open widget, once round: each shows its ring.
    stops = [tab_to(browser, lambda s: s["tag"] != "body")]
    while not has_class("rw-new-message")(stops[-1]):
        stops.append(tab_to(browser, lambda s: s["tag"] != "body"))
    # (At this width the widget closes with its launcher; its own close button shows on small screens only.)
    names = [(s["cls"].split()[0], s["name"]) for s in stops]
    assert names == [("rw-launcher", "Close the triage chat"), ("rw-toggle-fullscreen-button", "Full screen"),
                     ("rw-messages-container", "Conversation with the triage assistant"), ("rw-new-message", "Your message")]
    for stop in stops:
        assert_focus_ring(stop)
    screenshot(browser, "widget-keyboard-focus.png")

    before = len(bot_texts(browser))
    press(browser, FIRST, Keys.ENTER)  # typed into the focused message box and sent with Enter
    wait_for_reply(browser, before, "the first message")
    wait(browser, lambda d: d.find_elements("css selector", ".rw-reply"), "no quick replies")
    assert_no_blocking_violation("widget-quick-replies", axe_violations(browser))

    reply = tab_to(browser, lambda s: "rw-reply" in s["cls"] and s["text"] == "None of those", backwards=True)
    assert_focus_ring(reply)
    assert accessibility_node(browser, ".rw-reply")["role"] == "button"
    before = len(bot_texts(browser))
    press(browser, Keys.ENTER)  # picks the quick reply; the focus goes back to the message box
    wait_for_reply(browser, before, "the quick reply")
    said = browser.execute_script("return Array.from(document.querySelectorAll('.rw-client')).map(e => e.innerText.trim())")
    assert said[-1] == "None of those"
    wait(browser, lambda d: has_class("rw-new-message")(focused(d)), "the focus did not come back to the message box")

    press(browser, EMERGENCY, Keys.ENTER)
    wait(browser, lambda d: emergency_bubbles(d), "no emergency reply")
    wait(browser, lambda d: "loss of bladder and/or bowel control" in announced(d), "the emergency was not announced")
    # What is read out is what is shown, all of it (the widget may still be rendering the last bubbles).
    try:
        wait(browser, lambda d: same_words(announced(d), " ".join(emergency_bubbles(d))), "")
    except TimeoutException:
        raise AssertionError(f"read out {announced(browser)!r}, shown {emergency_bubbles(browser)!r}") from None
    assert announced(browser).startswith("EMERGENCY: call 911")
    region = accessibility_node(browser, "#triage-emergency-announcer")
    assert (region["role"], region["live"], region["atomic"]) == ("alert", "assertive", False)  # each line read as it comes
    assert browser.execute_script(
        "const r = document.getElementById('triage-emergency-announcer').getBoundingClientRect(); return r.width * r.height"
    ) <= 1  # read out, not shown twice
    screenshot(browser, "widget-emergency.png")
    assert_no_blocking_violation("widget-emergency", axe_violations(browser))

    assert_focus_ring(tab_to(browser, has_class("rw-launcher")))
    press(browser, Keys.ENTER)  # closes the chat
    wait(browser, lambda d: not d.find_elements("css selector", ".rw-chat-open"), "Enter on the launcher did not close the chat")
    assert has_class("rw-launcher")(focused(browser))
    assert_focus_ring(focused(browser))
    assert accessibility_node(browser, ".rw-launcher")["expanded"] is False

    press(browser, Keys.ENTER)  # and Escape closes it too
    wait(browser, lambda d: d.find_elements("css selector", ".rw-chat-open"), "the chat did not open again")
    wait(browser, lambda d: has_class("rw-new-message")(focused(d)), "the focus is not in the message box")
    press(browser, Keys.ESCAPE)
    wait(browser, lambda d: not d.find_elements("css selector", ".rw-chat-open"), "Escape did not close the chat")
    wait(browser, lambda d: has_class("rw-launcher")(focused(d)), "the focus did not go back to the launcher")


def horizontal_overflow(driver) -> dict:
    return driver.execute_script("""
      const page = document.documentElement;
      const wider = Array.from(document.querySelectorAll("body *"))
        .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > page.clientWidth + 1)
        .map((e) => e.tagName.toLowerCase() + "." + String(e.className || "")).slice(0, 10);
      return {scrollWidth: page.scrollWidth, clientWidth: page.clientWidth, wider};
    """)


def test_the_page_at_200_percent_zoom_reads_without_scrolling_sideways(assistant, browser):
    from selenium.webdriver.common.keys import Keys

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", ZOOM_200)
    open_page(browser, assistant.settings)
    assert browser.execute_script("return [window.innerWidth, window.devicePixelRatio]") == [640, 2]
    page = horizontal_overflow(browser)
    assert page["scrollWidth"] <= page["clientWidth"] and page["wider"] == [], page
    screenshot(browser, "widget-page-zoom-200.png")

    tab_to(browser, has_class("rw-launcher"))
    press(browser, Keys.ENTER)
    wait(browser, lambda d: any("triage assistant" in t for t in bot_texts(d)), "no greeting")
    before = len(bot_texts(browser))
    press(browser, FIRST, Keys.ENTER)
    wait_for_reply(browser, before, "the first message")
    wait(browser, lambda d: d.find_elements("css selector", ".rw-reply"), "no quick replies")
    page = horizontal_overflow(browser)
    assert page["scrollWidth"] <= page["clientWidth"] and page["wider"] == [], page
    chat = browser.execute_script("""
      const box = document.querySelector(".rw-conversation-container").getBoundingClientRect();
      const input = document.querySelector(".rw-new-message").getBoundingClientRect();
      const bubbles = Array.from(document.querySelectorAll(".rw-message-text"));
      return {left: box.left, right: box.right, inputVisible: input.bottom <= innerHeight && input.top >= 0,
              fontPx: parseFloat(getComputedStyle(document.querySelector(".rw-response")).fontSize),
              clipped: bubbles.filter((b) => b.scrollWidth > b.clientWidth + 1).length};
    """)
    assert chat["left"] >= 0 and chat["right"] <= 640 and chat["inputVisible"] and chat["clipped"] == 0, chat
    assert chat["fontPx"] >= 14  # CSS pixels: twice that on the screen
    screenshot(browser, "widget-zoom-200.png")
    assert_no_blocking_violation("widget-zoom-200", axe_violations(browser))

    # At this size the widget fills the window and closes with its own close button.
    assert_focus_ring(tab_to(browser, has_class("rw-close-button"), backwards=True))
    press(browser, Keys.ENTER)
    wait(browser, lambda d: not d.find_elements("css selector", ".rw-chat-open"), "Enter on the close button did not close the chat")
    wait(browser, lambda d: has_class("rw-launcher")(focused(d)), "the focus did not go back to the launcher")
    assert_focus_ring(focused(browser))
