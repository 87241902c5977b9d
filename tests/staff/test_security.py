"""The staff app's protections, checked over every route the app has rather than a hand-kept list.

CSRF on every POST, sign-in on every page but the public few, administrators only on every
admin page, cookie flags (Secure in production), lock-out, idle expiry, security headers; and
the real server (`python -m bot.staff serve`, waitress) in production mode: its headers and
cookie over real HTTP, and its refusal to start without secrets from the environment.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from flask import url_for

from bot.local_secrets import with_local_secrets
from bot.settings import PROJECT_ROOT, Settings
from bot.staff import StaffConfigError, create_app
from bot.store.database import make_engine, make_session_factory
from bot.store.models import ReviewNote

from ..store.conftest import TEST_PSEUDONYM_KEY
from ..store.databases import free_port
from .conftest import ADMIN, REVIEWER, STAFF_SECRET, csrf_from, login, settings_for, with_accounts
from .seed import seed

# Pages anyone may open signed out: the sign-in form, the transcript-health counts, the stylesheet.
PUBLIC_ENDPOINTS = {"auth.login", "health.health", "static"}
CSRF_REFUSAL = "did not come from this site"
START_TIMEOUT_S = 30


def url_of(app, rule) -> str:
    """A URL for any rule, filling its arguments with values that exist in the seeded database."""
    samples = {"conversation_id": app.config["SEEDED"]["emergency"], "fmt": "json", "filename": "staff.css"}
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: samples[name] for name in rule.arguments})


def rules_with(app, method: str):
    return sorted((r for r in app.url_map.iter_rules() if method in r.methods), key=lambda r: r.rule)


def notes(app) -> int:
    engine = make_engine(app.extensions["staff"].settings.transcripts_url)
    try:
        with make_session_factory(engine)() as session:
            return session.query(ReviewNote).count()
    finally:
        engine.dispose()


def test_the_app_has_the_post_and_admin_routes_these_tests_walk(app):
    posts = {r.endpoint for r in rules_with(app, "POST")}
    assert {"auth.login", "auth.logout", "conversations.review", "conversations.add_note"} <= posts
    assert {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")} == {
        "admin.audit_log", "admin.users"}


@pytest.mark.parametrize("token", [None, "", "a-token-from-somewhere-else", "wrong" * 9])
def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(admin_client, app, token):
    before = notes(app)
    for rule in rules_with(app, "POST"):
        data = {"name": ADMIN[0], "password": ADMIN[1], "text": "a note that must not be saved"}
        if token is not None:
            data["csrf_token"] = token
        response = admin_client.post(url_of(app, rule), data=data)
        assert response.status_code == 400, rule.rule
        assert CSRF_REFUSAL in response.get_data(as_text=True), rule.rule
        # A token in a header is checked the same way as one in the form.
        response = admin_client.post(url_of(app, rule), data=data, headers={"X-CSRF-Token": token or ""})
        assert response.status_code == 400, rule.rule
    assert notes(app) == before
    assert admin_client.get("/conversations").status_code == 200  # still signed in: logout was refused too


def test_a_token_from_another_session_is_refused(app, admin_client):
    other = app.test_client()
    login(other, *REVIEWER)
    their_token = csrf_from(other.get("/conversations").get_data(as_text=True))
    conversation = app.config["SEEDED"]["doctor"]
    response = admin_client.post(f"/conversations/{conversation}/notes", data={"text": "x", "csrf_token": their_token})
    assert response.status_code == 400


def test_the_token_changes_at_sign_in_so_one_planted_before_is_worthless(app):
    client = app.test_client()
    before = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": ADMIN[0], "password": ADMIN[1], "csrf_token": before})
    conversation = app.config["SEEDED"]["doctor"]
    response = client.post(f"/conversations/{conversation}/notes", data={"text": "x", "csrf_token": before})
    assert response.status_code == 400


def test_every_page_but_the_public_ones_needs_a_sign_in(app):
    client = app.test_client()
    for rule in rules_with(app, "GET"):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        response = client.get(url_of(app, rule))
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), rule.rule


def test_a_reviewer_gets_403_on_every_admin_route_and_an_admin_gets_the_page(app, reviewer_client, admin_client):
    admin_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    for rule in admin_rules:
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            token = csrf_from(reviewer_client.get("/conversations").get_data(as_text=True))
            response = reviewer_client.open(url_of(app, rule), method=method, data={"csrf_token": token})
            assert response.status_code == 403, (method, rule.rule)
        assert admin_client.get(url_of(app, rule)).status_code == 200, rule.rule


def _session_cookie(response) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("triage_staff=")]
    return cookie


def test_in_development_the_cookie_is_http_only_strict_and_not_secure_for_plain_http_on_loopback(app):
    cookie = _session_cookie(login(app.test_client(), *ADMIN))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie


def _production_app(sqlite_database, tmp_path, clock):
    (tmp_path / "data").mkdir()
    env = {"APP_ENV": "production", "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY, "STAFF_SECRET_KEY": STAFF_SECRET,
           "DATABASE_URL": sqlite_database.url, "TRIAGE_DATA_DIR": str(tmp_path / "data")}
    settings = Settings.from_env(env)
    seed(sqlite_database.url)
    with_accounts(sqlite_database.url)
    return create_app(settings, clock=clock)


def test_in_production_the_cookie_is_also_secure_and_sign_in_works_over_https(sqlite_database, tmp_path, clock,
                                                                               quick_hashing):
    app = _production_app(sqlite_database, tmp_path, clock)
    client = app.test_client()
    token = csrf_from(client.get("/login", base_url="https://staff.clinic.example").get_data(as_text=True))
    response = client.post("/login", base_url="https://staff.clinic.example",
                           data={"name": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
    cookie = _session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/conversations", base_url="https://staff.clinic.example").status_code == 200


def test_behind_an_https_proxy_secure_cookies_can_be_asked_for_outside_production(sqlite_database, tmp_path, clock,
                                                                                  quick_hashing):
    settings = dataclasses.replace(settings_for(sqlite_database, tmp_path / "data"),
                                   staff_secure_cookies=Settings.from_env({"STAFF_SECURE_COOKIES": "true"}).staff_secure_cookies)
    with_accounts(sqlite_database.url)
    cookie = _session_cookie(login(create_app(settings, clock=clock).test_client(), *ADMIN))
    assert "Secure" in cookie


def test_failures_below_the_limit_do_not_lock_and_a_success_starts_the_count_again(app, clock):
    client = app.test_client()
    for _ in range(2):  # one short of staff_max_failed_logins (3)
        assert login(client, REVIEWER[0], "guessing wrongly").status_code == 401
    assert login(client, *REVIEWER).status_code == 302
    client = app.test_client()
    for _ in range(2):
        assert login(client, REVIEWER[0], "guessing wrongly").status_code == 401
    assert login(client, *REVIEWER).status_code == 302  # the earlier two no longer count


def test_the_lock_out_lasts_exactly_staff_lockout_minutes(app, clock):
    client = app.test_client()
    for _ in range(3):
        login(client, REVIEWER[0], "guessing wrongly")
    clock.advance(minutes=14, seconds=59)
    assert login(client, *REVIEWER).status_code == 401
    clock.advance(seconds=2)
    assert login(client, *REVIEWER).status_code == 302


def test_an_expired_session_can_neither_read_nor_write(app, admin_client, clock):
    page = admin_client.get(f"/conversations/{app.config['SEEDED']['doctor']}").get_data(as_text=True)
    token = csrf_from(page)
    before = notes(app)
    clock.advance(minutes=31)
    response = admin_client.post(f"/conversations/{app.config['SEEDED']['doctor']}/notes",
                                 data={"text": "written after the session ended", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert notes(app) == before
    assert admin_client.get("/admin/audit").status_code == 302


def test_every_response_forbids_scripts_framing_sniffing_referrers_and_caching(app, admin_client):
    client = app.test_client()
    for response in (client.get("/login"), client.get("/health"), client.get("/no-such-page"),
                     admin_client.get("/conversations"), admin_client.get(f"/conversations/{app.config['SEEDED']['emergency']}"),
                     admin_client.get("/conversations/export.json")):
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'none'", "object-src 'none'", "frame-ancestors 'none'",
                          "base-uri 'none'", "form-action 'self'"):
            assert directive in policy
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"


# --- production mode, in the app and in the real server ---


def test_in_production_create_app_refuses_without_the_secrets_even_for_tests(tmp_path):
    for missing in ("PSEUDONYM_KEY", "STAFF_SECRET_KEY"):
        env = {"APP_ENV": "production", "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY, "STAFF_SECRET_KEY": STAFF_SECRET,
               "TRIAGE_DATA_DIR": str(tmp_path)}
        del env[missing]
        with pytest.raises(StaffConfigError, match=f"APP_ENV=production and {missing} is not set"):
            create_app(Settings.from_env(env), testing=True)


def _serve(env, timeout=START_TIMEOUT_S):
    return subprocess.run([sys.executable, "-m", "bot.staff", "serve"], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _base_env(tmp_path, database_url):
    env = {k: v for k, v in os.environ.items() if k not in ("PSEUDONYM_KEY", "STAFF_SECRET_KEY", "APP_ENV")}
    return {**env, "PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": database_url,
            "TRIAGE_DATA_DIR": str(tmp_path / "data"), "STAFF_PORT": str(free_port())}


def test_in_production_the_server_will_not_use_secrets_kept_in_the_data_folder(sqlite_database, tmp_path):
    env = _base_env(tmp_path, sqlite_database.url)
    # A development run left both secrets in the data folder; production must not take them.
    kept = with_local_secrets(Settings.from_env(env), create=True)
    assert kept.staff_secret_key and kept.pseudonym_key
    done = _serve({**env, "APP_ENV": "production"})
    assert done.returncode != 0
    assert "APP_ENV=production and PSEUDONYM_KEY and STAFF_SECRET_KEY are not set" in done.stderr
    done = _serve({**env, "APP_ENV": "production", "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY})
    assert done.returncode != 0 and "STAFF_SECRET_KEY is not set" in done.stderr


def test_in_production_secure_cookies_cannot_be_turned_off(sqlite_database, tmp_path):
    env = {**_base_env(tmp_path, sqlite_database.url), "APP_ENV": "production", "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
           "STAFF_SECRET_KEY": STAFF_SECRET, "STAFF_SECURE_COOKIES": "false"}
    done = _serve(env)
    assert done.returncode != 0 and "STAFF_SECURE_COOKIES cannot be false with APP_ENV=production" in done.stderr


def test_the_real_production_server_sends_a_secure_cookie_and_the_security_headers(sqlite_database, tmp_path):
    env = {**_base_env(tmp_path, sqlite_database.url), "APP_ENV": "production", "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
           "STAFF_SECRET_KEY": STAFF_SECRET}
    log = open(tmp_path / "staff.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "bot.staff", "serve"], env=env, cwd=PROJECT_ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{env['STAFF_PORT']}/login"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                response = urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "staff.log").read_text()
                time.sleep(0.2)
        with response:
            headers = response.headers
            page = response.read().decode()
        (cookie,) = [c for c in headers.get_all("Set-Cookie") if c.startswith("triage_staff=")]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "script-src 'none'" in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
        assert 'name="csrf_token"' in page
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
    assert not (tmp_path / "data" / "secrets").exists()  # production wrote no secret to disk
