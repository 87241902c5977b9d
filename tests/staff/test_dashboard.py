"""The dashboard over the seeded conversations, on SQLite and PostgreSQL: figures, charts, CSV, filters."""
from __future__ import annotations

import csv
import io
import re

from .conftest import REVIEWER, login
from .test_accessibility import keyboard  # noqa: F401 (fixture)
from .test_browser import browser, chromium, server  # noqa: F401 (fixtures)


def signed_in(app):
    client = app.test_client()
    assert login(client, *REVIEWER).status_code == 302
    return client


def test_the_dashboard_counts_levels_red_flags_channels_decisions_and_review_time(app_on_each_database):
    page = signed_in(app_on_each_database).get("/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Seeded: two emergencies (one reviewed 25 h after it started), a doctor, a self-care, one undecided.
    assert "5 conversations" in html
    assert re.search(r'id="decided-share">80%', html)
    assert re.search(r'id="review-median">25\.0 h', html) and re.search(r'id="review-worst">25\.0 h', html)
    assert html.count("<svg") >= 4 and "<script" not in html
    assert "emergency.bladder_bowel_loss" in html and "emergency.back_injury" in html
    assert "socketio" in html and "rest" in html


def test_the_figures_as_csv_match_the_page_and_follow_the_filters(app_on_each_database):
    client = signed_in(app_on_each_database)
    rows = list(csv.reader(io.StringIO(client.get("/dashboard.csv").get_data(as_text=True))))
    assert rows[0] == ["figure", "key", "level", "value"]
    figures = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert figures[("conversations", "", "")] == "5" and figures[("reached_a_decision", "", "")] == "4"
    assert figures[("red_flag", "emergency.bladder_bowel_loss", "")] == "1"
    assert figures[("channel", "rest", "")] == "4" and figures[("channel", "socketio", "")] == "1"
    per_day = {(r[1], r[2]): int(r[3]) for r in rows[1:] if r[0] == "conversations_per_day"}
    assert per_day[("2024-03-01", "emergency")] == 2 and per_day[("2024-03-04", "doctor")] == 1
    assert sum(per_day.values()) == 5
    assert figures[("hours_to_review_median", "", "emergency")] == "25.0"
    only_socketio = list(csv.reader(io.StringIO(client.get("/dashboard.csv?channel=socketio").get_data(as_text=True))))
    assert ["conversations", "", "", "1"] in only_socketio and ["conversations_per_day", "2024-03-04", "doctor", "1"] in only_socketio


def test_the_dashboard_needs_a_sign_in(app):
    response = app.test_client().get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_without_a_range_the_last_90_days_and_a_long_range_shows_weeks_only(app, clock):
    clock.advance(days=100)  # every seeded conversation is now older than 90 days
    client = signed_in(app)
    assert "0 conversations from" in client.get("/dashboard").get_data(as_text=True)
    long_range = client.get("/dashboard?from=2023-01-01&to=2024-03-31").get_data(as_text=True)
    assert "5 conversations from 2023-01-01 to 2024-03-31" in long_range
    assert "Conversations per day" not in long_range and "Conversations per week" in long_range
    assert "Conversations per day" in client.get("/dashboard?from=2024-03-01&to=2024-03-31").get_data(as_text=True)


def test_the_dashboard_in_chromium_draws_its_charts_and_axe_finds_nothing_serious(keyboard, server):  # noqa: F811
    from selenium.webdriver.common.by import By

    from ..web.test_accessibility import assert_no_blocking_violation, axe_violations, screenshot
    from .test_accessibility import sign_in_with_the_keyboard

    base, _ids = server
    sign_in_with_the_keyboard(keyboard, base)
    keyboard.get(base + "/dashboard?from=2024-03-01&to=2024-03-31")
    assert len(keyboard.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4
    assert keyboard.find_elements(By.CSS_SELECTOR, "svg.chart rect")  # bars drawn, not empty charts
    assert_no_blocking_violation("staff-dashboard-march", axe_violations(keyboard))
    screenshot(keyboard, "staff-dashboard.png")
