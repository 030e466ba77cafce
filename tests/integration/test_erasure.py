"""Erasure (Art. 17) leaves no trace of the person in any table, keeps the journey counts, and a
later webhook for the same address does not subscribe it again. Export (Art. 20) holds it all."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from app import clock, create_app
from app.db import db
from app.models import (AuditEntry, ConsentRecord, Contact, Enrollment, EnrollmentStep, Event, Message, PendingCart,
                        PrivacyRequest, SubscriptionStatus, Suppression, WebhookCall, email_digest)
from app.services import audit_log, contact_links
from tests.api_support import make_key
from tests.consent_support import find_everywhere
from tests.shop_support import make_source
from tests.engine_support import SMTPServer, journey, post, run_until_quiet, template, work

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
EMAIL = "zofia.wisniewska@example.pl"
FIRST, LAST = "Zofia", "Wiśniewska"
NEEDLES = [EMAIL, FIRST, LAST, "+48 601 234 567", "ul. Kwiatowa 7"]

GRAPH = {
    "schema": 1, "settings": {"exit_events": []},
    "nodes": [{"id": "start", "type": "trigger", "config": {"event": "order_placed"}},
              {"id": "thanks", "type": "send", "config": {"template": "thanks", "category": "marketing"}},
              {"id": "crm", "type": "webhook", "config": {
                  "url": "https://crm.example/hook",
                  "body": '{"who": "{{ contact.first_name }} {{ contact.last_name }}", "email": "{{ contact.email }}"}'}},
              {"id": "later", "type": "wait", "config": {"duration": "P3D"}},
              {"id": "tips", "type": "send", "config": {"template": "thanks", "category": "marketing"}},
              {"id": "end", "type": "exit"}],
    "edges": [{"from": "start", "to": "thanks"}, {"from": "thanks", "to": "crm"}, {"from": "crm", "to": "later"},
              {"from": "later", "to": "tips"}, {"from": "tips", "to": "end"}],
}


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def engine_app(app, settings, smtp):  # type: ignore[no-untyped-def]
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    yield application
    application.extensions["db_engine"].dispose()


def order(email: str = EMAIL, key: str = "order-1", consent: str = "subscribed") -> dict[str, Any]:
    return {"event": "order_placed", "idempotency_key": key,
            "contact": {"email": email, "external_id": "shop-cust-77", "consent": {"marketing": consent},
                        "attributes": {"first_name": FIRST, "last_name": LAST, "phone": "+48 601 234 567"}},
            "properties": {"total": "129.00", "shipping_address": "ul. Kwiatowa 7, 00-001 Warszawa",
                           "customer_name": f"{FIRST} {LAST}"}}


def populate(application: Any, smtp: SMTPServer) -> int:
    """The person in every table that can hold them: contact, events, enrollment, trace, messages,
    webhook calls, consent records with IP, a pending cart, a privacy request and audit entries."""
    with application.app_context(), db.transaction() as s:
        template(s, "thanks", "Thank you, {{ contact.first_name }}!", now=T0)
        journey(s, GRAPH, now=T0)
    post(application, order())
    work(application)
    assert len(smtp.box.to(EMAIL)) == 1
    shop = make_source(application, "shopify", name="Main store")
    with application.app_context(), db.transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.email == EMAIL))
        s.add(PendingCart(source_id=shop.id, checkout_token="tok-1", contact_email=EMAIL, contact_external_id="shop-cust-77",
                          started_at=T0, due_at=T0 + timedelta(hours=1), updated_at=T0,
                          payload={"contact": {"email": EMAIL, "attributes": {"first_name": FIRST}}}))
        s.add(PrivacyRequest(source_id=shop.id, kind="export", topic="customers/data_request", customer_email=EMAIL,
                             customer_external_id="shop-cust-77", received_at=T0, status="done",
                             details={"customer": {"email": EMAIL, "phone": "+48 601 234 567"}}))
        audit_log.write(s, actor="support@shop.example", action="contact.note", target=EMAIL, now=T0,
                        note=f"{FIRST} {LAST} called about her order")
        ident = contact.id
    prefs = contact_links.preferences_url(application.config["SETTINGS"], ident)
    application.test_client(use_cookies=False).post(urlsplit(prefs).path, data={"marketing": "unsubscribed"},
                                                    environ_base={"REMOTE_ADDR": "203.0.113.44"})
    application.test_client(use_cookies=False).post(urlsplit(prefs).path, data={"marketing": "subscribed"})
    with application.app_context():
        assert find_everywhere(db.session, [EMAIL]), "the fixture should have put the address in the tables"
        assert db.session.scalar(select(func.count()).select_from(WebhookCall)) == 1
        assert db.session.scalar(select(WebhookCall.body)).count(FIRST) == 1
    return ident


def counts(application: Any) -> dict[str, int]:
    with application.app_context():
        s = db.session
        return {"enrollments": s.scalar(select(func.count()).select_from(Enrollment)) or 0,
                "messages": s.scalar(select(func.count()).select_from(Message)) or 0,
                "sent": s.scalar(select(func.count()).select_from(Message).where(Message.sent_at.is_not(None))) or 0,
                "events": s.scalar(select(func.count()).select_from(Event)) or 0,
                "orders": s.scalar(select(func.sum(Contact.orders_count))) or 0}


def test_api_erasure_leaves_no_trace_of_the_person_in_any_table_and_counts_stay(engine_app, smtp):
    ident = populate(engine_app, smtp)
    before = counts(engine_app)
    key = make_key(engine_app, "contacts:write")
    web = engine_app.test_client()
    resp = web.delete(f"/api/v1/contacts/{ident}", headers=key.headers)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["erased"] is True and resp.get_json()["rows"]["events"] == 1

    with engine_app.app_context():
        leftovers = find_everywhere(db.session, NEEDLES)
        assert leftovers == [], "\n".join(leftovers)
        contact = db.session.get(Contact, ident)
        assert contact.email == f"erased-{ident}@erased.invalid" and contact.erased_at is not None
        assert db.session.scalar(select(Suppression.reason).where(Suppression.email_hash == email_digest(EMAIL))) == "erasure"
        enrollment = db.session.scalars(select(Enrollment)).one()
        assert (enrollment.status, enrollment.exit_reason) == ("exited", "contact_erased")
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.note"))
        assert entry.target == "[erased]" and entry.redactions == 1 and "called about her order" in entry.details["note"]
        erase_entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.erase"))
        assert erase_entry.actor.startswith("api:jrny_") and erase_entry.target == f"contact:{ident}"
    assert counts(engine_app) == before  # journey counts, sends and order totals stay

    # the waiting enrollment was ended: nothing more goes out
    run_until_quiet(engine_app, T0 + timedelta(days=4))
    assert len(smtp.box.to(EMAIL)) == 1
    again = web.delete(f"/api/v1/contacts/{ident}", headers=key.headers)
    assert again.status_code == 409


def test_a_later_webhook_for_the_erased_address_does_not_subscribe_it(engine_app, smtp):
    ident = populate(engine_app, smtp)
    with engine_app.app_context(), db.transaction() as s:
        from app.services import erasure

        erasure.erase(s, s.get(Contact, ident), actor="test", now=T0)
    clock.set_source(lambda: T0 + timedelta(days=1))
    post(engine_app, order(key="order-2"), source="shopify:Main store")
    work(engine_app)
    with engine_app.app_context():
        fresh = db.session.scalar(select(Contact).where(Contact.email == EMAIL))
        assert fresh is not None and fresh.id != ident  # the shop still knows them: a new row, as the shop says
        assert fresh.subscription_status == SubscriptionStatus.never_subscribed
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)
                                 .where(ConsentRecord.contact_id == fresh.id)) == 0
        steps = [(s.node, s.outcome, s.reason) for s in db.session.scalars(
            select(EnrollmentStep).join(Enrollment, Enrollment.id == EnrollmentStep.enrollment_id)
            .where(Enrollment.contact_id == fresh.id))]
        assert ("thanks", "skipped", "suppressed") in steps
    assert len(smtp.box.to(EMAIL)) == 1  # nothing more went to the address


def test_erasure_from_the_contact_page_needs_the_address_typed(engine_app, smtp, login):
    ident = populate(engine_app, smtp)
    web = engine_app.test_client()
    from tests.conftest import make_user, sign_in

    make_user(engine_app, "boss@example.com", "admin")
    sign_in(web, "boss@example.com")
    page = web.get(f"/contacts/{ident}").get_data(as_text=True)
    assert "Erase this contact" in page
    from tests.conftest import csrf_from

    csrf = csrf_from(page)
    wrong = web.post(f"/contacts/{ident}/erase", data={"csrf_token": csrf, "confirm": "zofia@example.pl"})
    assert wrong.status_code == 422 and "Type the contact" in wrong.get_data(as_text=True)
    with engine_app.app_context():
        assert db.session.get(Contact, ident).erased_at is None
    done = web.post(f"/contacts/{ident}/erase", data={"csrf_token": csrf, "confirm": EMAIL.upper(),
                                                      "reason": f"{FIRST} asked by email"})
    assert done.status_code == 302
    with engine_app.app_context():
        assert db.session.get(Contact, ident).erased_at is not None
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.erase"))
        assert entry.actor == "boss@example.com" and entry.details["reason"] == "[erased] asked by email"
        assert find_everywhere(db.session, NEEDLES) == []


def test_the_cli_erases_and_exports(engine_app, smtp, settings, instance_dir, database_url, redis_url):
    from tests.conftest import environ_for, run_cli

    ident = populate(engine_app, smtp)
    env = environ_for(instance_dir, database_url, redis_url)
    exported = run_cli("contacts", "export", EMAIL, env=env)
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(exported.stdout)
    assert doc["contact"]["email"] == EMAIL and doc["contact"]["id"] == ident
    assert run_cli("contacts", "erase", "nobody@example.com", "--yes", env=env).returncode == 1
    both = run_cli("contacts", "erase", EMAIL, "--id", str(ident), "--yes", env=env)
    assert both.returncode != 0 and "not both" in both.stderr
    erased = run_cli("contacts", "erase", "--id", str(ident), "--yes", "--reason", "ticket 42", env=env)
    assert erased.returncode == 0, erased.stderr
    assert f"Erased contact {ident}" in erased.stdout
    with engine_app.app_context():
        assert find_everywhere(db.session, NEEDLES) == []
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.erase"))
        assert entry.actor.startswith("cli") and entry.details["reason"] == "ticket 42"


def test_export_is_one_document_with_everything_stored(engine_app, smtp):
    ident = populate(engine_app, smtp)
    key = make_key(engine_app, "contacts:read")
    resp = engine_app.test_client().get(f"/api/v1/contacts/{ident}/export", headers=key.headers)
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["contact"]["email"] == EMAIL and doc["contact"]["attributes"]["first_name"] == FIRST
    assert [e["name"] for e in doc["events"]] == ["order_placed"]
    assert doc["events"][0]["properties"]["customer_name"] == f"{FIRST} {LAST}"
    assert doc["enrollments"][0]["journey"] == "Journey" and doc["enrollments"][0]["trace"]
    assert doc["messages"][0]["to_email"] == EMAIL and doc["messages"][0]["status"] == "sent"
    assert FIRST in doc["webhook_calls"][0]["body"]
    assert doc["pending_carts"][0]["contact_email"] == EMAIL
    assert doc["privacy_requests"][0]["topic"] == "customers/data_request"
    assert [r["status"] for r in doc["consent"]] == ["subscribed", "unsubscribed", "subscribed"]
    assert doc["consent"][1]["ip"] == "203.0.113.44"
    with engine_app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.export"))
        assert entry.target == f"contact:{ident}" and entry.actor.startswith("api:")
    forbidden = engine_app.test_client().get(f"/api/v1/contacts/{ident}/export",
                                             headers=make_key(engine_app, "events:write", name="w").headers)
    assert forbidden.status_code == 403
    missing = engine_app.test_client().get("/api/v1/contacts/999999/export", headers=key.headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_audit_entries_cannot_be_edited_in_the_database(engine_app):
    with engine_app.app_context(), db.transaction() as s:
        entry = audit_log.write(s, actor="admin@example.com", action="settings.update", target="workspace", now=T0,
                                changed={"shop_name": ["A", "B"]})
        s.flush()
        ident = entry.id
    with engine_app.app_context():
        for change in ({"action": "nothing.happened"}, {"actor": "someone@else"},
                       {"details": {"changed": {}}}, {"at": T0 - timedelta(days=1)}):
            with pytest.raises(DBAPIError, match="append-only"):
                with db.transaction() as s:
                    s.execute(update(AuditEntry).where(AuditEntry.id == ident).values(**change))
        with db.transaction() as s:  # the one allowed change: a redaction, which counts itself
            s.execute(update(AuditEntry).where(AuditEntry.id == ident).values(
                details={"changed": "[erased]"}, redactions=AuditEntry.redactions + 1))
        row = db.session.get(AuditEntry, ident)
        db.session.refresh(row)
        assert (row.action, row.redactions, row.details) == ("settings.update", 1, {"changed": "[erased]"})
        assert db.session.execute(text("SELECT count(*) FROM audit_log")).scalar() >= 1
