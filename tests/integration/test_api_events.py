"""POST /api/v1/events: stored before 202, deduplicated, refused clearly (and nothing stored) otherwise."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from app import clock, create_app
from app.db import db
from app.models import Contact, Event
from tests.api_support import Key, event, make_key, revoke
from tests.engine_support import work

URL = "/api/v1/events"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def stored(application: Any) -> list[Event]:
    with application.app_context():
        return list(db.session.scalars(select(Event).order_by(Event.id)))


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.json
    assert {"type", "title", "status", "detail", "errors"} <= set(body) and body["status"] == status
    return body


@pytest.fixture
def key(app) -> Key:  # type: ignore[no-untyped-def]
    return make_key(app, "events:write")


def test_an_event_is_stored_before_202_and_then_processed(app, client, key):
    clock.set_source(lambda: T0)
    resp = client.post(URL, json=event(properties={"total": 12.5}, occurred_at="2026-12-01T09:00:00Z",
                                       contact={"email": "Ana@Example.com", "tags": ["vip"]}), headers=key.headers)
    assert resp.status_code == 202 and resp.json["status"] == "accepted"
    [row] = stored(app)
    assert row.id == resp.json["id"] and row.name == "signed_up" and row.properties == {"total": 12.5}
    assert row.contact == {"email": "ana@example.com", "tags": ["vip"], "attributes": {}, "consent": {}}
    assert row.occurred_at == datetime(2026, 12, 1, 9, tzinfo=timezone.utc) and row.received_at == T0
    assert row.source.startswith("api:jrny_") and row.processed_at is None
    work(app)  # the kicked job
    with app.app_context():
        contact = db.session.scalars(select(Contact)).one()
        assert contact.email == "ana@example.com" and contact.tags == ["vip"]
        assert db.session.get(Event, row.id).processed_at is not None


@pytest.mark.parametrize("how", ["body", "header"])
def test_a_repeated_idempotency_key_stores_nothing_and_answers_the_first_id(app, client, key, how):
    data, headers = event(), dict(key.headers)
    if how == "body":
        data["idempotency_key"] = "order-1001"
    else:
        headers["Idempotency-Key"] = "order-1001"
    first = client.post(URL, json=data, headers=headers)
    again = client.post(URL, json={**data, "properties": {"changed": True}}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json == {"id": first.json["id"], "status": "duplicate"}
    assert [e.idempotency_key for e in stored(app)] == ["order-1001"]


def test_without_a_key_every_post_is_a_new_event(app, client, key):
    ids = {client.post(URL, json=event(), headers=key.headers).json["id"] for _ in range(3)}
    assert len(ids) == 3 and len(stored(app)) == 3


def test_the_body_key_wins_over_the_header(app, client, key):
    client.post(URL, json=event(idempotency_key="a"), headers={**key.headers, "Idempotency-Key": "b"})
    assert [e.idempotency_key for e in stored(app)] == ["a"]


@pytest.mark.parametrize("header", ["", "x" * 201, "tab\there"])
def test_a_bad_idempotency_header_is_refused(app, client, key, header):
    body = assert_problem(client.post(URL, json=event(), headers={**key.headers, "Idempotency-Key": header}), 400)
    assert body["errors"] == [{"header": "Idempotency-Key", "detail": "empty, too long or not printable"}]
    assert stored(app) == []


# --- authentication and scopes ---------------------------------------------------------------

def test_no_key_is_401_with_a_bearer_challenge(app, client):
    resp = client.post(URL, json=event())
    body = assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="journeys"'
    assert "Authorization: Bearer" in body["detail"] and body["errors"][0]["header"] == "Authorization"
    assert stored(app) == []


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "jrny_nothing"])
def test_a_malformed_authorization_header_is_401(app, client, authorization):
    assert_problem(client.post(URL, json=event(), headers={"Authorization": authorization}), 401)
    assert stored(app) == []


def test_a_wrong_key_is_401_invalid_token(app, client, key):
    resp = client.post(URL, json=event(), headers={"Authorization": f"Bearer {key.key}x"})
    assert "not valid" in assert_problem(resp, 401)["detail"]
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="journeys", error="invalid_token"'
    assert stored(app) == []


def test_a_revoked_key_is_401_from_its_next_request(app, client, key):
    assert client.post(URL, json=event(), headers=key.headers).status_code == 202
    revoke(app, key)
    resp = client.post(URL, json=event(), headers=key.headers)
    assert "was revoked" in assert_problem(resp, 401)["detail"]
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert len(stored(app)) == 1


def test_a_key_without_the_scope_is_403(app, client):
    reader = make_key(app, "contacts:read,journeys:read")
    resp = client.post(URL, json=event(), headers=reader.headers)
    body = assert_problem(resp, 403)
    assert "lacks the events:write scope" in body["detail"]
    assert resp.headers["WWW-Authenticate"].endswith('error="insufficient_scope", scope="events:write"')
    assert stored(app) == []


def test_a_session_cookie_does_not_authenticate_the_api(app, login):
    browser = login("admin")  # signed in, CSRF and all: still no key
    assert_problem(browser.post(URL, json=event()), 401)
    assert stored(app) == []


def test_last_used_is_recorded_at_most_once_a_minute(app, client, key):
    from datetime import timedelta

    from app.models import ApiKey

    def last_used():  # type: ignore[no-untyped-def]
        with app.app_context():
            return db.session.get(ApiKey, key.id).last_used_at

    assert last_used() is None
    for offset, expected in [(0, T0), (59, T0), (60, T0 + timedelta(seconds=60))]:
        clock.set_source(lambda: T0 + timedelta(seconds=offset))
        client.post(URL, json=event(), headers=key.headers)
        assert last_used() == expected


# --- bad input: a clear 4xx, nothing stored --------------------------------------------------

@pytest.mark.parametrize("data, pointer, says", [
    ({"event": "x", "contact": {"email": "not an address"}}, "/contact/email", "not an email address"),
    ({"event": "x", "contact": {"email": "a@example"}}, "/contact/email", "not an email address"),
    ({"event": "x", "contact": {}}, "/contact", "give an email or an external_id"),
    ({"event": "x"}, "/contact", "is required"),
    ({"contact": {"email": "a@example.com"}}, "/event", "is required"),
    ({"event": "", "contact": {"email": "a@example.com"}}, "/event", "at least 1 character"),
    ({"event": "has space", "contact": {"email": "a@example.com"}}, "/event", "should match pattern"),
    ({"event": 42, "contact": {"email": "a@example.com"}}, "/event", "must be a string"),
    ({"event": "x", "contact": "a@example.com"}, "/contact", "must be a JSON object"),
    ({"event": "x", "contact": {"email": "a@example.com"}, "properties": []}, "/properties", "JSON object"),
    ({"event": "x", "contact": {"email": "a@example.com", "tags": "vip"}}, "/contact/tags", "must be an array"),
    ({"event": "x", "contact": {"email": "a@example.com", "tags": [1]}}, "/contact/tags/0", "must be a string"),
    ({"event": "x", "contact": {"email": "a@example.com"}, "occurred_at": "soon"}, "/occurred_at", "ISO 8601"),
    ({"event": "x", "contact": {"email": "a@example.com", "timezone": "Mars/Base"}}, "/contact/timezone", "IANA"),
    ({"event": "x", "contact": {"email": "a@example.com", "consent": {"marketing": "yes"}}}, "/contact/consent",
     "consent must be"),
    ({"event": "x", "contact": {"email": "a@example.com", "nickname": "A"}}, "/contact/nickname", "not a known field"),
    ({"event": "x", "contact": {"email": "a@example.com"}, "extra": 1}, "/extra", "not a known field"),
    ({"event": "x", "contact": {"external_id": "a\u0000b"}}, "/contact/external_id", "printable"),
    ({"event": "x", "contact": {"email": "a@example.com"}, "idempotency_key": "k\nk"}, "/idempotency_key",
     "printable"),
    ({"event": "x", "contact": {"email": "a@example.com"}, "idempotency_key": "k" * 256}, "/idempotency_key",
     "at most 255"),
    ([{"event": "x"}], "", "must be a JSON object"),
])
def test_each_invalid_field_is_422_with_its_pointer(app, client, key, data, pointer, says):
    body = assert_problem(client.post(URL, json=data, headers=key.headers), 422)
    assert pointer in [e["pointer"] for e in body["errors"]], body
    assert says in " ".join(e["detail"] for e in body["errors"]), body
    assert stored(app) == []


def test_every_bad_field_is_listed_at_once(app, client, key):
    body = assert_problem(client.post(URL, json={"event": "", "contact": {"email": "x"}, "junk": 1},
                                      headers=key.headers), 422)
    assert sorted(e["pointer"] for e in body["errors"]) == ["/contact/email", "/event", "/junk"]


@pytest.mark.parametrize("raw, content_type, status, says", [
    (b'{"event": "x",', "application/json", 400, "not valid JSON"),
    (b"", "application/json", 400, "not valid JSON"),
    (b'{"event": "x", "contact": {"email": "a@example.com"}, "properties": {"n": NaN}}', "application/json",
     400, "NaN is not a JSON number"),
    (b'{"event": "x", "contact": {"email": "a@example.com"}, "properties": {"n": 1e999}}', "application/json",
     400, "too large a number"),
    (b'{"event": "x", "contact": {"email": "a@example.com"}, "properties": {"s": "\\udc00"}}',
     "application/json", 400, "surrogate"),
    (b'{"event": "x", "contact": {"email": "\xff@example.com"}}', "application/json", 400, "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "nested too deeply"),
    (b'{"event": "x", "contact": {"email": "a@example.com"}}', "text/plain", 415, "Content-Type: application/json"),
    (b'{"event": "x", "contact": {"email": "a@example.com"}}', "application/x-www-form-urlencoded", 415,
     "application/json"),
    (b'{"event": "x", "contact": {"email": "a@example.com"}}', "application/json; charset=latin-1", 415,
     "charset=latin-1"),
    (b'{"event": "x", "contact": {"email": "a@example.com"}}', None, 415, "no Content-Type"),
])
def test_bodies_that_are_not_usable_json_are_refused(app, client, key, raw, content_type, status, says):
    headers = dict(key.headers)
    if content_type:
        headers["Content-Type"] = content_type
    body = assert_problem(client.post(URL, data=raw, headers=headers), status)
    assert says in body["detail"], body
    assert stored(app) == []


def test_a_body_over_the_limit_is_413(app, settings, key):
    small = create_app(settings.with_overrides(api_max_body_bytes=1000))
    try:
        data = event(properties={"note": "x" * 1000})
        body = assert_problem(small.test_client().post(URL, json=data, headers=key.headers), 413)
        assert "limit of 1000 bytes" in body["detail"]
        assert stored(small) == []
        ok = small.test_client().post(URL, json=event(properties={"note": "x" * 100}), headers=key.headers)
        assert ok.status_code == 202
    finally:
        small.extensions["db_engine"].dispose()


def test_hostile_but_valid_json_is_stored_as_sent(app, client, key):
    """Strings JSON allows and both databases must hold: NUL, emoji, RTL marks, 64-bit integers."""
    props = {"nul": "a\u0000b", "emoji": "🛒", "rtl": "\u202eevil", "big": 2**63 - 1, "float": 0.1,
             "deep": [[[[{"a": None}]]]], "html": "<script>alert(1)</script>"}
    resp = client.post(URL, json=event(properties=props), headers=key.headers)
    assert resp.status_code == 202
    assert stored(app)[0].properties == props


def test_other_methods_and_unknown_routes_are_problem_json(app, client, key):
    resp = client.get(URL, headers=key.headers)
    assert_problem(resp, 405)
    assert "POST" in resp.headers["Allow"]
    assert_problem(client.post("/api/v1/nothing", json={}, headers=key.headers), 404)


def test_accepted_while_redis_is_down(app, settings, key):
    """The event is committed first; the kick fails quietly and the scheduler's tick finds the event."""
    broken = create_app(settings.with_overrides(redis_url="redis://127.0.0.1:1/0"))
    try:
        resp = broken.test_client().post(URL, json=event(), headers=key.headers)
        assert resp.status_code == 202
        with broken.app_context():
            assert db.session.scalar(select(func.count()).select_from(Event)) == 1
    finally:
        broken.extensions["db_engine"].dispose()
