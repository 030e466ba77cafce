"""Keys with a signing secret: every request is checked as Standard Webhooks says, over the exact bytes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app import clock
from app.services.api_keys import new_signing_secret
from tests.api_support import Key, body, event, make_key, signed_headers
from tests.integration.test_api_events import assert_problem, stored

URL = "/api/v1/events"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def key(app) -> Key:  # type: ignore[no-untyped-def]
    clock.set_source(lambda: T0)
    return make_key(app, "events:write", signed=True)


def test_a_signing_key_has_a_standard_webhooks_secret(key):
    assert key.signing_secret and key.signing_secret.startswith("whsec_")


def test_a_correctly_signed_request_is_accepted(app, client, key):
    raw = body(event())
    resp = client.post(URL, data=raw, headers=signed_headers(key, raw, msg_id="msg_a"))
    assert resp.status_code == 202 and resp.json["status"] == "accepted"
    assert [e.idempotency_key for e in stored(app)] == ["msg_a"]  # the webhook-id names the message


def test_a_replayed_webhook_id_is_deduplicated(app, client, key):
    raw = body(event())
    headers = signed_headers(key, raw, msg_id="msg_replayed")
    first = client.post(URL, data=raw, headers=headers)
    clock.set_source(lambda: T0 + timedelta(minutes=4))  # still inside the tolerance
    again = client.post(URL, data=raw, headers=headers)
    assert again.status_code == 202 and again.json == {"id": first.json["id"], "status": "duplicate"}
    assert len(stored(app)) == 1


def test_a_replay_after_the_tolerance_is_refused(app, client, key):
    raw = body(event())
    headers = signed_headers(key, raw, msg_id="msg_old")
    assert client.post(URL, data=raw, headers=headers).status_code == 202
    clock.set_source(lambda: T0 + timedelta(minutes=5, seconds=1))
    problem = assert_problem(client.post(URL, data=raw, headers=headers), 401)
    assert "away from our clock" in problem["detail"]
    assert len(stored(app)) == 1


def test_a_changed_body_byte_is_refused(app, client, key):
    raw = body(event(properties={"total": 10}))
    tampered = raw.replace(b'"total": 10', b'"total": 90')
    resp = client.post(URL, data=tampered, headers=signed_headers(key, raw))
    problem = assert_problem(resp, 401)
    assert problem["title"] == "Signature refused" and "No webhook-signature matches" in problem["detail"]
    assert problem["errors"] == [{"header": "webhook-signature", "detail": "no matching v1 signature"}]
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert stored(app) == []


def test_the_wrong_secret_is_refused(app, client, key):
    raw = body(event())
    assert_problem(client.post(URL, data=raw, headers=signed_headers(key, raw, secret=new_signing_secret())), 401)
    assert stored(app) == []


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused_by_name(app, client, key, missing):
    raw = body(event())
    headers = signed_headers(key, raw)
    del headers[missing]
    problem = assert_problem(client.post(URL, data=raw, headers=headers), 401)
    assert missing in problem["detail"] and problem["errors"][0]["header"] == missing
    assert stored(app) == []


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_stale_or_future_timestamp_is_refused(app, client, key, skew):
    raw = body(event())
    headers = signed_headers(key, raw, at=int(T0.timestamp()) + skew)
    assert "away from our clock" in assert_problem(client.post(URL, data=raw, headers=headers), 401)["detail"]
    assert stored(app) == []


def test_during_rotation_either_of_two_signatures_passes(app, client, key):
    raw = body(event())
    headers = signed_headers(key, raw, msg_id="msg_rot")
    old = signed_headers(key, raw, msg_id="msg_rot", secret=new_signing_secret())["webhook-signature"]
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    assert client.post(URL, data=raw, headers=headers).status_code == 202


def test_a_signed_batch_replayed_stores_nothing_twice(app, client, key):
    raw = body({"events": [event(email=f"b{i}@example.com") for i in range(3)]})
    headers = signed_headers(key, raw, msg_id="msg_batch")
    first = client.post("/api/v1/events/batch", data=raw, headers=headers).json
    again = client.post("/api/v1/events/batch", data=raw, headers=headers).json
    assert first["accepted"] == 3 and again["duplicates"] == 3
    assert sorted(e.idempotency_key for e in stored(app)) == ["msg_batch#0", "msg_batch#1", "msg_batch#2"]


def test_the_key_is_checked_before_the_signature(app, client, key):
    raw = body(event())
    headers = signed_headers(key, raw)
    headers["Authorization"] = "Bearer jrny_wrong"
    assert "not valid" in assert_problem(client.post(URL, data=raw, headers=headers), 401)["detail"]


def test_keys_without_a_secret_need_no_signature(app, client):
    plain = make_key(app, "events:write")
    assert client.post(URL, json=event(), headers=plain.headers).status_code == 202
