"""API keys: shown once, stored hashed, scoped, revocable; from the CLI and from Settings."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app import clock
from app.db import db
from app.errors import ValidationFailed
from app.models import ApiKey, AuditEntry
from app.services import api_keys
from tests.api_support import event
from tests.conftest import environ_for, page_csrf, run_cli


def keys(app) -> list[ApiKey]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


def test_a_key_is_stored_as_its_sha256_with_a_visible_prefix(app):
    with app.app_context():
        with db.transaction() as s:
            issued = api_keys.create(s, name="  Shop   backend ", scopes="events:write, contacts:read",
                                     actor=None, by="test", now=clock.now())
    [row] = keys(app)
    assert issued.key.startswith("jrny_") and len(issued.key) >= 45
    assert row.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
    assert issued.key not in repr(row.__dict__)
    assert row.prefix == issued.key[:12] and row.name == "Shop backend"
    assert row.scopes == ["events:write", "contacts:read"] and row.signing_secret is None


@pytest.mark.parametrize("name, scopes, field, says", [
    ("shop", "events:write,events:read", "scopes", "Unknown scope(s): events:read"),
    ("shop", "", "scopes", "at least one scope"),
    ("shop", " , ", "scopes", "at least one scope"),
    ("", "events:write", "name", "Give the key a name"),
    ("x" * 101, "events:write", "name", "at most 100"),
])
def test_bad_names_and_scopes_are_refused(app, name, scopes, field, says):
    with app.app_context():
        with pytest.raises(ValidationFailed) as caught:
            api_keys.create(db.session, name=name, scopes=scopes, actor=None, by="test", now=clock.now())
    assert caught.value.field == field and says in caught.value.detail
    assert keys(app) == []


def test_creating_and_revoking_are_audited(app):
    with app.app_context():
        with db.transaction() as s:
            issued = api_keys.create(s, name="shop", scopes="events:write", actor=None, by="test", now=clock.now())
        with db.transaction() as s:
            api_keys.revoke(s, issued.row.id, actor=None, by="test", now=clock.now())
            api_keys.revoke(s, issued.row.id, actor=None, by="test", now=clock.now())  # idempotent
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["api_key.create", "api_key.revoke"]


# --- the command line ----------------------------------------------------------------------------

def test_cli_create_prints_the_key_alone_on_the_last_line_and_it_works(app, client, settings):
    env = environ_for(settings.instance_path, settings.database_url, settings.effective_redis_url)
    made = run_cli("api-keys", "create", "--name", "shop", "--scopes", "events:write,contacts:read", env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("jrny_") and " " not in key
    resp = client.post("/api/v1/events", json=event(), headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 202

    listed = run_cli("api-keys", "list", env=env)
    [line] = listed.stdout.strip().splitlines()
    assert line.startswith(f"{keys(app)[0].id}\t{key[:12]}…\tshop\tevents:write,contacts:read\tactive\t20")
    assert key not in listed.stdout

    revoked = run_cli("api-keys", "revoke", str(keys(app)[0].id), env=env)
    assert revoked.returncode == 0 and "Revoked" in revoked.stdout
    assert client.post("/api/v1/events", json=event(), headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert "\trevoked " in run_cli("api-keys", "list", env=env).stdout


def test_cli_signed_keys_print_the_secret_before_the_key(app, settings):
    env = environ_for(settings.instance_path, settings.database_url, settings.effective_redis_url)
    made = run_cli("api-keys", "create", "--name", "hook", "--scopes", "events:write", "--signed", env=env)
    lines = made.stdout.strip().splitlines()
    assert lines[-1].startswith("jrny_") and "whsec_" in lines[-2]
    rotated = run_cli("api-keys", "signing", str(keys(app)[0].id), env=env)
    assert rotated.stdout.strip().splitlines()[-1].startswith("whsec_")
    assert run_cli("api-keys", "signing", str(keys(app)[0].id), "--off", env=env).returncode == 0
    assert keys(app)[0].signing_secret is None


@pytest.mark.parametrize("args, says", [
    (["create", "--name", "x", "--scopes", "everything"], "Unknown scope(s): everything"),
    (["revoke", "999"], "No API key 999"),
    (["create", "--scopes", "events:write"], "Missing option '--name'"),
])
def test_cli_mistakes_are_one_clear_line(app, settings, args, says):
    env = environ_for(settings.instance_path, settings.database_url, settings.effective_redis_url)
    result = run_cli("api-keys", *args, env=env)
    assert result.returncode != 0 and says in result.stderr and "Traceback" not in result.stderr
    assert keys(app) == []


# --- Settings → API keys -------------------------------------------------------------------------

def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(app, login):
    browser = login("admin")
    page = browser.get("/settings/api-keys/")
    assert page.status_code == 200 and "No API keys yet" in page.get_data(as_text=True)
    resp = browser.post("/settings/api-keys/", data={
        "csrf_token": page_csrf(browser, "/settings/api-keys/"), "name": "Shop backend",
        "scopes": ["events:write", "contacts:read"], "signed": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    key = html.split("<pre><code>")[1].split("</code>")[0]
    secret = html.split("<pre><code>")[2].split("</code>")[0]
    assert key.startswith("jrny_") and secret.startswith("whsec_")
    [row] = keys(app)
    assert row.created_by == "admin@example.com" and row.scopes == ["events:write", "contacts:read"]
    assert row.signing_secret == secret

    listing = browser.get("/settings/api-keys/").get_data(as_text=True)
    assert key not in listing and secret not in listing and f"{key[:12]}…" in listing and "Shop backend" in listing

    revoked = browser.post(f"/settings/api-keys/{row.id}/revoke",
                           data={"csrf_token": page_csrf(browser, "/settings/api-keys/")}, follow_redirects=True)
    assert "is revoked" in revoked.get_data(as_text=True)
    assert keys(app)[0].revoked_at is not None and keys(app)[0].revoked_by == "admin@example.com"


def test_the_form_shows_what_is_wrong_and_creates_nothing(app, login):
    browser = login("admin")
    resp = browser.post("/settings/api-keys/", data={
        "csrf_token": page_csrf(browser, "/settings/api-keys/"), "name": "Shop"})
    assert resp.status_code == 422 and "Give at least one scope" in resp.get_data(as_text=True)
    assert 'value="Shop"' in resp.get_data(as_text=True)
    assert keys(app) == []


def test_an_admin_can_require_and_rotate_signing(app, login):
    browser = login("admin")
    with app.app_context():
        with db.transaction() as s:
            key_id = api_keys.create(s, name="shop", scopes="events:write", actor=None, by="t", now=clock.now()).row.id
    resp = browser.post(f"/settings/api-keys/{key_id}/signing",
                        data={"csrf_token": page_csrf(browser, "/settings/api-keys/"), "enabled": "1"})
    secret = resp.get_data(as_text=True).split("<pre><code>")[1].split("</code>")[0]
    assert secret.startswith("whsec_") and keys(app)[0].signing_secret == secret
    browser.post(f"/settings/api-keys/{key_id}/signing",
                 data={"csrf_token": page_csrf(browser, "/settings/api-keys/"), "enabled": "0"})
    assert keys(app)[0].signing_secret is None


def test_settings_link_to_api_keys_and_the_reference(app, login):
    html = login("admin").get("/settings/").get_data(as_text=True)
    assert 'href="/settings/api-keys/"' in html and 'href="/api-reference"' in html
