"""Sign-in, lock-out, session timeout, roles, and the app's refusal to run without its secret.

CSRF on every POST route, cookie flags and security headers: test_security.py."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.settings import Settings
from bot.staff import StaffConfigError, create_app
from bot.store.database import make_engine, make_session_factory
from bot.store.models import StaffUser

from .conftest import ADMIN, REVIEWER, csrf_from, login


def account(app, name):
    engine = make_engine(app.extensions["staff"].settings.transcripts_url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(StaffUser).where(StaffUser.name == name))
    finally:
        engine.dispose()


def test_pages_need_a_sign_in(app):
    response = app.test_client().get("/conversations?level=emergency")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_passwords_are_stored_as_argon2id_hashes(app):
    stored = account(app, "ann").password_hash
    assert stored.startswith("$argon2id$") and ADMIN[1] not in stored


def test_sign_in_goes_back_to_the_page_asked_for_but_never_to_another_site(app):
    client = app.test_client()
    client.get("/conversations?level=doctor")
    token = csrf_from(client.get("/login?next=/conversations%3Flevel%3Ddoctor").get_data(as_text=True))
    response = client.post("/login", data={"name": "ann", "password": ADMIN[1], "csrf_token": token,
                                           "next": "/conversations?level=doctor"})
    assert response.headers["Location"] == "/conversations?level=doctor"
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"name": "ann", "password": ADMIN[1], "csrf_token": token,
                                           "next": "//evil.example/phish"})
    assert response.headers["Location"] == "/conversations"


def test_a_wrong_password_is_refused_with_the_same_words_as_an_unknown_name(app):
    client = app.test_client()
    wrong = login(client, "ann", "not the password at all")
    unknown = login(client, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong name or password." in wrong.get_data(as_text=True)
    assert "Wrong name or password." in unknown.get_data(as_text=True)
    assert client.get("/conversations").status_code == 302


def test_repeated_failures_lock_the_account_even_against_the_right_password_until_the_lock_ends(app, clock):
    client = app.test_client()
    for _ in range(3):  # staff_max_failed_logins in the test settings
        response = login(client, "rob", "guessing wrongly")
    assert "locked until 12:15 UTC" in response.get_data(as_text=True)
    assert login(client, *REVIEWER).status_code == 401  # locked: the right password does not help
    clock.advance(minutes=16)
    assert login(client, *REVIEWER).status_code == 302
    assert account(app, "rob").failed_logins == 0


def test_an_idle_session_times_out(admin_client, clock):
    assert admin_client.get("/conversations").status_code == 200
    clock.advance(minutes=29)
    assert admin_client.get("/conversations").status_code == 200  # activity keeps the session alive
    clock.advance(minutes=31)
    response = admin_client.get("/conversations")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_after_logout_the_old_cookie_is_worthless(app):
    client = app.test_client()
    login(client, *ADMIN)
    cookie = client.get_cookie("triage_staff").value
    page = client.get("/conversations").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("triage_staff", cookie)
    assert replay.get("/conversations").status_code == 302


def test_a_reviewer_is_kept_out_of_the_admin_pages(reviewer_client):
    for path in ("/admin/audit", "/admin/users"):
        response = reviewer_client.get(path)
        assert response.status_code == 403 and "This page is for administrators." in response.get_data(as_text=True)
    assert "Audit log" not in reviewer_client.get("/conversations").get_data(as_text=True)


def test_an_admin_sees_the_admin_pages(admin_client):
    assert admin_client.get("/admin/audit").status_code == 200
    users = admin_client.get("/admin/users").get_data(as_text=True)
    assert "rob" in users and "reviewer" in users


def test_the_app_refuses_to_start_without_its_secret_key(tmp_path):
    with pytest.raises(StaffConfigError, match="STAFF_SECRET_KEY"):
        create_app(Settings(data_dir=tmp_path))
