"""POST /api/v1/events/batch: one result per item, valid ones stored, bad ones answered with their reason."""
from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import Event
from tests.api_support import Key, event, make_key
from tests.integration.test_api_events import assert_problem, stored

URL = "/api/v1/events/batch"


@pytest.fixture
def key(app) -> Key:  # type: ignore[no-untyped-def]
    return make_key(app, "events:write")


def test_one_bad_item_does_not_refuse_the_others(app, client, key):
    items = [event(email="a@example.com"), event(email="broken"), event(name="order_placed", email="b@example.com")]
    resp = client.post(URL, json={"events": items}, headers=key.headers)
    assert resp.status_code == 202
    body = resp.json
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 1)
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "accepted"]
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert body["results"][1]["errors"][0]["pointer"] == "/events/1/contact/email"
    assert "not an email address" in body["results"][1]["errors"][0]["detail"]
    rows = stored(app)
    assert [r.id for r in rows] == [body["results"][0]["id"], body["results"][2]["id"]]
    assert [r.name for r in rows] == ["signed_up", "order_placed"]


def test_keys_repeated_within_and_across_batches_are_duplicates_of_the_first(app, client, key):
    first = client.post(URL, json={"events": [event(idempotency_key="k1"), event(idempotency_key="k1"),
                                              event(idempotency_key="k2")]}, headers=key.headers).json
    assert [r["status"] for r in first["results"]] == ["accepted", "duplicate", "accepted"]
    assert first["results"][0]["id"] == first["results"][1]["id"]
    second = client.post(URL, json={"events": [event(idempotency_key="k2"), event(idempotency_key="k3")]},
                         headers=key.headers).json
    assert second["results"][0] == {"index": 0, "status": "duplicate", "id": first["results"][2]["id"]}
    assert second["results"][1]["status"] == "accepted"
    assert sorted(e.idempotency_key for e in stored(app)) == ["k1", "k2", "k3"]


def test_a_retried_batch_with_an_idempotency_key_header_stores_nothing_twice(app, client, key):
    batch = {"events": [event(email=f"c{i}@example.com") for i in range(5)] + [event(idempotency_key="own")]}
    headers = {**key.headers, "Idempotency-Key": "upload-7"}
    first = client.post(URL, json=batch, headers=headers).json
    again = client.post(URL, json=batch, headers=headers).json
    assert first["accepted"] == 6 and again["duplicates"] == 6 and again["accepted"] == 0
    assert [r["id"] for r in first["results"]] == [r["id"] for r in again["results"]]
    assert sorted(e.idempotency_key for e in stored(app)) == sorted([f"upload-7#{i}" for i in range(5)] + ["own"])


def test_a_batch_where_every_item_is_bad_is_422_with_every_reason(app, client, key):
    items = [event(email="nope"), {"event": "x"}, {"event": "x", "contact": {"email": "a@example.com"}, "z": 1}]
    body = assert_problem(client.post(URL, json={"events": items}, headers=key.headers), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/events/0/contact/email", "/events/1/contact", "/events/2/z"]
    assert stored(app) == []


@pytest.mark.parametrize("data, pointer", [
    ({"events": []}, "/events"),
    ({"events": [event()] * 1001}, "/events"),
    ({"events": event()}, "/events"),
    ({}, "/events"),
    ({"events": [event()], "more": []}, "/more"),
    ([event()], ""),
])
def test_a_malformed_envelope_is_422_and_stores_nothing(app, client, key, data, pointer):
    body = assert_problem(client.post(URL, json=data, headers=key.headers), 422)
    assert body["errors"][0]["pointer"] == pointer
    assert stored(app) == []


def test_the_batch_route_needs_the_events_scope_too(app, client):
    reader = make_key(app, "contacts:read")
    assert_problem(client.post(URL, json={"events": [event()]}, headers=reader.headers), 403)
    assert_problem(client.post(URL, json={"events": [event()]}), 401)
    assert stored(app) == []


# --- the proof: 10,000 events, 10% duplicates, 5% malformed ----------------------------------

MALFORMED: list[tuple[dict[str, Any], str, str]] = [
    ({"event": "x", "contact": {"email": "no-at-sign"}}, "/contact/email", "not an email address"),
    ({"event": "x", "contact": {}}, "/contact", "give an email or an external_id"),
    ({"event": "has space", "contact": {"email": "a@example.com"}}, "/event", "should match pattern"),
    ({"event": "x", "contact": {"email": "a@example.com"}, "occurred_at": "yesterday"}, "/occurred_at", "ISO 8601"),
    ({"event": "x", "contact": {"email": "a@example.com"}, "colour": "red"}, "/colour", "not a known field"),
    ({"event": 7, "contact": {"email": "a@example.com"}}, "/event", "must be a string"),
    ("not an object", "", "must be a JSON object"),
]


def test_ten_thousand_events_store_exactly_the_valid_unique_ones(app, client, key):
    rng = random.Random(5)
    total, per_batch = 10_000, 1_000
    kinds = ["valid"] * 8_500 + ["duplicate"] * 1_000 + ["malformed"] * 500
    rng.shuffle(kinds)
    items: list[Any] = []
    expected: list[tuple[str, Any]] = []  # ("valid", key) | ("duplicate", index of the original) | ("malformed", case)
    valid_so_far: list[int] = []
    for i, kind in enumerate(kinds):
        if kind == "duplicate" and not valid_so_far:
            kind = "valid"  # nothing to repeat yet; the count of 1,000 is checked below
        if kind == "valid":
            items.append(event(email=f"shopper{i}@example.com", idempotency_key=f"evt-{i}",
                               properties={"n": i}))
            expected.append(("valid", f"evt-{i}"))
            valid_so_far.append(i)
        elif kind == "duplicate":
            original = rng.choice(valid_so_far[-1500:])  # some in this batch, some in earlier ones
            items.append(dict(items[original], properties={"n": "repeat"}))
            expected.append(("duplicate", original))
        else:
            case = MALFORMED[i % len(MALFORMED)]
            items.append(case[0])
            expected.append(("malformed", case))
    results: list[dict[str, Any]] = []
    for start in range(0, total, per_batch):
        resp = client.post(URL, json={"events": items[start:start + per_batch]}, headers=key.headers)
        assert resp.status_code == 202
        results += [dict(r, index=r["index"] + start) for r in resp.json["results"]]
    assert [r["index"] for r in results] == list(range(total))
    unique = [k for kind, k in expected if kind == "valid"]
    duplicates = [i for i, (kind, _) in enumerate(expected) if kind == "duplicate"]
    malformed = [i for i, (kind, _) in enumerate(expected) if kind == "malformed"]
    assert len(malformed) == 500 and len(duplicates) + len(unique) == 9_500 and len(duplicates) >= 999
    for i, (kind, what) in enumerate(expected):
        result = results[i]
        if kind == "valid":
            assert result["status"] == "accepted", result
        elif kind == "duplicate":
            assert result == {"index": i, "status": "duplicate", "id": results[what]["id"]}
        else:
            data, pointer, says = what
            assert result["status"] == "rejected" and "id" not in result
            [error] = result["errors"]
            assert error["pointer"] == f"/events/{i % per_batch}{pointer}" and says in error["detail"], result
    with app.app_context():
        s = db.session
        assert s.scalar(select(func.count()).select_from(Event)) == len(unique)
        assert sorted(s.scalars(select(Event.idempotency_key))) == sorted(unique)
        ids = {r["id"] for r in results if r["status"] == "accepted"}
        assert set(s.scalars(select(Event.id))) == ids
        repeats = select(func.count()).select_from(Event).where(Event.properties["n"].as_string() == "repeat")
        assert s.scalar(repeats) == 0  # no duplicate's body was stored
