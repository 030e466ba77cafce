"""Contacts API: upsert through the events' own path, find and page, read one with its events,
journeys (and their trace) and messages; bad input is refused by field and stores nothing."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from app import clock
from app.db import db
from app.models import Contact, Suppression, email_digest
from tests.api_support import Key, make_key
from tests.engine_support import chain, journey, send, template, wait, work
from tests.integration.test_api_events import assert_problem

URL = "/api/v1/contacts"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def key(app) -> Key:  # type: ignore[no-untyped-def]
    clock.set_source(lambda: T0)
    return make_key(app, "contacts:read,contacts:write,events:write")


def count(application: Any) -> int:
    with application.app_context():
        return db.session.scalar(select(func.count()).select_from(Contact)) or 0


def test_upsert_creates_then_merges(app, client, key):
    first = client.post(URL, json={"email": "Ana@Example.com", "external_id": "c-81", "tags": ["vip"],
                                   "attributes": {"first_name": "Ana", "country": "PL"}, "timezone": "Europe/Warsaw",
                                   "locale": "pl-PL", "consent": {"marketing": "subscribed"}}, headers=key.headers)
    assert first.status_code == 201, first.json
    body = first.json
    assert (body["email"], body["external_id"], body["status"]) == ("ana@example.com", "c-81", "subscribed")
    assert body["consent"] == {"marketing": "subscribed", "suppressed": None}
    assert body["metrics"] == {"orders_count": 0, "total_spent": 0.0, "last_order_at": None}
    again = client.post(URL, json={"external_id": "c-81", "tags": ["repeat"], "attributes": {"country": "DE"},
                                   "consent": {"marketing": "unsubscribed"}}, headers=key.headers)
    assert again.status_code == 200 and again.json["id"] == body["id"]
    assert again.json["tags"] == ["repeat", "vip"]
    assert again.json["attributes"] == {"first_name": "Ana", "country": "DE"}
    assert again.json["status"] == "unsubscribed" and again.json["timezone"] == "Europe/Warsaw"
    assert count(app) == 1


def test_an_unknown_external_id_without_an_email_is_422(app, client, key):
    body = assert_problem(client.post(URL, json={"external_id": "nobody"}, headers=key.headers), 422)
    assert body["errors"][0]["pointer"] == "/email"
    assert count(app) == 0


@pytest.mark.parametrize("data, pointer", [
    ({"email": "not-an-address"}, "/email"),
    ({"email": "a@example.com", "timezone": "Mars/Olympus"}, "/timezone"),
    ({"email": "a@example.com", "consent": {"marketing": "maybe"}}, "/consent"),
    ({"email": "a@example.com", "tags": "vip"}, "/tags"),
    ({"email": "a@example.com", "attributes": []}, "/attributes"),
    ({"email": "a@example.com", "nickname": "A"}, "/nickname"),
    ({"email": "a@example.com", "external_id": "tab\there"}, "/external_id"),
    ({}, ""),
])
def test_bad_fields_are_422_with_their_pointer_and_nothing_is_stored(app, client, key, data, pointer):
    body = assert_problem(client.post(URL, json=data, headers=key.headers), 422)
    assert pointer in [p["pointer"] for p in body["errors"]], body
    assert count(app) == 0


def test_find_by_email_and_search(app, client, key):
    for i, (tags, status, country) in enumerate([(["vip"], "subscribed", "PL"), ([], "unsubscribed", "DE"),
                                                 (["vip", "new"], "subscribed", "DE")]):
        client.post(URL, json={"email": f"c{i}@example.com", "external_id": f"ext-{i}", "tags": tags,
                               "consent": {"marketing": status}, "attributes": {"country": country, "n": i}},
                    headers=key.headers)

    def emails(query: str) -> list[str]:
        resp = client.get(f"{URL}?{query}", headers=key.headers)
        assert resp.status_code == 200, resp.json
        return sorted(c["email"] for c in resp.json["items"])

    assert emails("email=C1@Example.com") == ["c1@example.com"]
    assert emails("email=nobody@example.com") == []
    assert emails("q=c2") == ["c2@example.com"] and emails("q=ext-0") == ["c0@example.com"]
    assert emails("status=subscribed") == ["c0@example.com", "c2@example.com"]
    assert emails("tag=vip") == ["c0@example.com", "c2@example.com"] and emails("tag=vi") == []
    assert emails("attribute=country%3DDE") == ["c1@example.com", "c2@example.com"]
    assert emails("attribute=n%3D2") == ["c2@example.com"]
    assert emails("tag=vip&status=subscribed&attribute=country%3DPL") == ["c0@example.com"]
    page = client.get(f"{URL}?per_page=2&page=2", headers=key.headers).json
    assert (page["total"], page["page"], page["per_page"], page["has_next"], len(page["items"])) == (3, 2, 2, False, 1)
    assert client.get(f"{URL}?per_page=2", headers=key.headers).json["has_next"] is True


@pytest.mark.parametrize("query, parameter", [
    ("page=0", "page"), ("per_page=1000", "per_page"), ("status=happy", "status"),
    ("attribute=country", "attribute"), ("colour=red", "colour"), ("page=two", "page"),
])
def test_bad_query_parameters_are_422_by_name(app, client, key, query, parameter):
    body = assert_problem(client.get(f"{URL}?{query}", headers=key.headers), 422)
    assert body["errors"][0]["parameter"] == parameter


def test_a_contact_in_full_with_its_events_journeys_trace_and_messages(app, client, key):
    with app.app_context():
        with db.transaction() as s:
            template(s, "welcome", "Welcome, {{ contact.first_name }}", now=T0)
            journey(s, chain("signed_up", send("hello", "welcome"), wait("pause", "P1D")), name="Welcome", now=T0)
    sent = client.post("/api/v1/events", headers=key.headers, json={
        "event": "signed_up", "properties": {"via": "footer"},
        "contact": {"email": "klara@example.com", "attributes": {"first_name": "Klara"},
                    "consent": {"marketing": "subscribed"}}})
    assert sent.status_code == 202
    work(app)
    [found] = client.get(f"{URL}?email=klara@example.com", headers=key.headers).json["items"]
    resp = client.get(f"{URL}/{found['id']}", headers=key.headers)
    assert resp.status_code == 200
    body = resp.json
    assert body["email"] == "klara@example.com" and body["status"] == "subscribed"
    [event] = body["events"]
    assert (event["event"], event["properties"], event["id"]) == ("signed_up", {"via": "footer"}, sent.json["id"])
    [enrollment] = body["enrollments"]
    assert (enrollment["journey"], enrollment["version"], enrollment["status"], enrollment["node"]) == (
        "Welcome", 1, "waiting", "pause")
    assert [s["outcome"] for s in enrollment["steps"]] == ["entered", "sent", "waiting"]
    [message] = body["messages"]
    assert (message["template"], message["template_version"], message["to"]) == ("welcome", 1, "klara@example.com")
    assert message["status"] == "sent" and message["subject"] == "Welcome, Klara"


def test_a_suppressed_contact_says_so(app, client, key):
    made = client.post(URL, json={"email": "gone@example.com", "consent": {"marketing": "subscribed"}},
                       headers=key.headers).json
    with app.app_context():
        with db.transaction() as s:
            s.add(Suppression(email_hash=email_digest("gone@example.com"), reason="bounce", created_at=T0))
    body = client.get(f"{URL}/{made['id']}", headers=key.headers).json
    assert body["status"] == "suppressed" and body["consent"] == {"marketing": "subscribed", "suppressed": "bounce"}
    assert client.get(f"{URL}?email=gone@example.com", headers=key.headers).json["items"][0]["status"] == "suppressed"


def test_an_unknown_contact_is_404(app, client, key):
    assert_problem(client.get(f"{URL}/424242", headers=key.headers), 404)
    assert_problem(client.get(f"{URL}/{2**70}", headers=key.headers), 404)
    assert_problem(client.get(f"{URL}/{2**31}", headers=key.headers), 404)  # past a 32-bit id: no such row


def test_reading_a_contact_is_in_the_audit_log_under_the_key_and_a_miss_is_not(app, client, key):
    from app.models import ApiKey, AuditEntry

    made = client.post(URL, json={"email": "seen@example.com"}, headers=key.headers).json
    assert client.get(f"{URL}/{made['id']}", headers=key.headers).status_code == 200
    assert_problem(client.get(f"{URL}/424242", headers=key.headers), 404)
    with app.app_context():
        prefix = db.session.get(ApiKey, key.id).prefix
        views = db.session.execute(select(AuditEntry.actor, AuditEntry.target)
                                   .where(AuditEntry.action == "contact.view")).all()
    assert views == [(f"api:{prefix}", f"contact:{made['id']}")]
