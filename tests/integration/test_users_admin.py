"""Admins manage users in Settings; bad input gets a clear error and changes nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from app.db import db
from app.models import AuditEntry, User
from tests.conftest import page_csrf, sign_in


def _count_users(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_admin_creates_a_marketer_who_can_sign_in(app, login):
    admin = login("admin")
    resp = admin.post("/settings/users", data={
        "csrf_token": page_csrf(admin), "email": "New.Person@Example.com", "role": "marketer",
        "password": "long enough password", "name": "New Person"})
    assert resp.status_code == 302
    assert "new.person@example.com can now sign in as marketer" in admin.get("/settings/").get_data(as_text=True)
    assert sign_in(app.test_client(), "new.person@example.com", "long enough password").status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create", AuditEntry.target == "new.person@example.com"))
        assert entry.actor == "admin@example.com" and entry.target == "new.person@example.com"


def test_bad_user_input_is_refused_with_the_field_and_changes_nothing(app, login):
    admin = login("admin")
    before = _count_users(app)
    cases = [
        ({"email": "not-an-address", "role": "viewer", "password": "long enough password"}, "is not an email address"),
        ({"email": "x@example.com", "role": "owner", "password": "long enough password"}, "is not one of admin"),
        ({"email": "x@example.com", "role": "viewer", "password": "short"}, "at least 10 characters"),
        ({"email": "admin@example.com", "role": "viewer", "password": "long enough password"}, "already exists"),
    ]
    for data, message in cases:
        resp = admin.post("/settings/users", data={"csrf_token": page_csrf(admin), **data})
        assert resp.status_code in (409, 422), data
        assert message in resp.get_data(as_text=True), data
    assert _count_users(app) == before


def test_admin_cannot_demote_or_deactivate_themself(app, login):
    admin = login("admin")
    with app.app_context():
        me = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    resp = admin.post(f"/settings/users/{me.id}/role", data={"csrf_token": page_csrf(admin), "role": "viewer"})
    assert resp.status_code == 422
    resp = admin.post(f"/settings/users/{me.id}/active", data={"csrf_token": page_csrf(admin), "active": "0"})
    assert resp.status_code == 422
    assert admin.get("/settings/").status_code == 200


def test_role_change_takes_effect_at_once(app, login):
    from tests.conftest import make_user

    uid = make_user(app, "m@example.com", "marketer")
    marketer = app.test_client()
    sign_in(marketer, "m@example.com")
    assert marketer.get("/settings/").status_code == 403
    admin = login("admin")
    admin.post(f"/settings/users/{uid}/role", data={"csrf_token": page_csrf(admin), "role": "admin"})
    assert marketer.get("/settings/").status_code == 200
