"""Signing in and out: hashed passwords, revocable sessions, timeouts, rate limits."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app import clock
from app.db import db
from app.models import User
from tests.conftest import PASSWORD, make_user, page_csrf, sign_in


def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie("journeys_session")
    return cookie.value if cookie else ""


def test_passwords_are_stored_as_argon2id(app):
    make_user(app, "a@example.com", "viewer")
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_and_unknown_email_get_the_same_answer(app, client):
    make_user(app, "a@example.com", "viewer")
    wrong = sign_in(client, "a@example.com", "not the password")
    unknown = sign_in(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an active account" in wrong.get_data(as_text=True)
    assert client.get("/journeys").status_code == 302


def test_sign_in_rotates_the_session(app, client):
    make_user(app, "a@example.com", "viewer")
    client.get("/login")
    before = _cookie(client)
    assert sign_in(client, "a@example.com").status_code == 302
    assert _cookie(client) and _cookie(client) != before


def test_next_parameter_only_redirects_within_the_site(app, client):
    make_user(app, "a@example.com", "viewer")
    token = page_csrf(client, "/login")
    resp = client.post("/login?next=//evil.example/", data={
        "email": "a@example.com", "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": page_csrf(client)})
    token = page_csrf(client, "/login")
    resp = client.post("/login?next=/contacts", data={
        "email": "a@example.com", "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/contacts"


def test_logout_revokes_the_session_even_for_a_copied_cookie(app, client):
    make_user(app, "a@example.com", "viewer")
    sign_in(client, "a@example.com")
    stolen = _cookie(client)
    client.post("/logout", data={"csrf_token": page_csrf(client)})
    thief = app.test_client()
    thief.set_cookie("journeys_session", stolen)
    assert thief.get("/journeys").status_code == 302


def test_sign_out_everywhere_ends_other_browsers(app, login):
    phone = login("viewer", "v@example.com")
    laptop = app.test_client()
    assert sign_in(laptop, "v@example.com").status_code == 302
    assert laptop.get("/journeys").status_code == 200
    phone.post("/settings/account/sign-out-everywhere", data={"csrf_token": page_csrf(phone)})
    assert laptop.get("/journeys").status_code == 302
    assert phone.get("/journeys").status_code == 302


def test_admin_signs_out_another_user_and_deactivation_ends_sessions(app, login):
    victim = app.test_client()
    victim_id = make_user(app, "m@example.com", "marketer")
    sign_in(victim, "m@example.com")
    admin = login("admin")
    admin.post(f"/settings/users/{victim_id}/sign-out", data={"csrf_token": page_csrf(admin)})
    assert victim.get("/journeys").status_code == 302
    sign_in(victim, "m@example.com")
    admin.post(f"/settings/users/{victim_id}/active",
               data={"csrf_token": page_csrf(admin), "active": "0"})
    assert victim.get("/journeys").status_code == 302
    assert sign_in(victim, "m@example.com").status_code == 401


def _at(moment: datetime) -> None:
    clock.set_source(lambda: moment)


def test_idle_timeout_ends_the_session(app, client, settings):
    start = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    _at(start)
    make_user(app, "a@example.com", "viewer")
    sign_in(client, "a@example.com")
    _at(start + timedelta(seconds=settings.session_idle_seconds - 60))
    assert client.get("/journeys").status_code == 200  # activity keeps it alive
    _at(start + timedelta(seconds=2 * settings.session_idle_seconds - 120))
    assert client.get("/journeys").status_code == 200
    _at(start + timedelta(seconds=3 * settings.session_idle_seconds))
    assert client.get("/journeys").status_code == 302


def test_absolute_timeout_ends_even_an_active_session(app, client, settings):
    start = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    make_user(app, "a@example.com", "viewer")
    _at(start)
    sign_in(client, "a@example.com")
    moment = start
    step = timedelta(seconds=settings.session_idle_seconds // 2)
    while moment < start + timedelta(seconds=settings.session_max_seconds - step.total_seconds()):
        moment += step
        _at(moment)
        assert client.get("/journeys").status_code == 200
    _at(start + timedelta(seconds=settings.session_max_seconds + 1))
    assert client.get("/journeys").status_code == 302


def test_failed_sign_ins_are_rate_limited_per_address_and_account(app):
    make_user(app, "a@example.com", "viewer")
    attacker = app.test_client()
    codes = [sign_in(attacker, "a@example.com", "guess", ip="10.0.0.66").status_code
             for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    # Even the right password is refused from the attacker's address for now ...
    assert sign_in(attacker, "a@example.com", ip="10.0.0.66").status_code == 429
    # ... but the real user, elsewhere, is not locked out.
    owner = app.test_client()
    assert sign_in(owner, "a@example.com", ip="192.0.2.10").status_code == 302


def test_successful_sign_ins_do_not_use_up_the_limit(app):
    make_user(app, "a@example.com", "viewer")
    for _ in range(8):
        c = app.test_client()
        assert sign_in(c, "a@example.com", ip="10.0.0.7").status_code == 302


def test_session_cookie_flags(app, client):
    make_user(app, "a@example.com", "viewer")
    resp = sign_in(client, "a@example.com")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development/test: plain http on localhost


def test_new_password_ends_existing_sessions(app, login):
    me = login("viewer", "v@example.com")
    other = app.test_client()
    sign_in(other, "v@example.com")
    resp = me.post("/settings/account/password", data={
        "csrf_token": page_csrf(me), "current": PASSWORD, "password": "a brand new secret"})
    assert resp.status_code == 302
    assert other.get("/journeys").status_code == 302
    assert sign_in(app.test_client(), "v@example.com", "a brand new secret").status_code == 302


def test_too_short_new_password_is_refused_and_changes_nothing(app, login):
    me = login("viewer", "v@example.com")
    resp = me.post("/settings/account/password", data={
        "csrf_token": page_csrf(me), "current": PASSWORD, "password": "short"})
    assert resp.status_code == 422 and "at least 10 characters" in resp.get_data(as_text=True)
    assert me.get("/journeys").status_code == 200
