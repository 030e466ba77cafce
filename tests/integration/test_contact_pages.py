"""The contact pages: the list's search and filters, and the detail that answers "why didn't they
get the email?"; viewing is audited; the audit page filters and pages; shops' privacy requests
are carried out by the tick."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.db import db
from app.models import (AuditEntry, Contact, Enrollment, EnrollmentStep, PrivacyRequest, SubscriptionStatus,
                        Suppression, email_digest)
from app.services import audit_log, consent, suppressions
from tests.conftest import csrf_from, page_csrf
from tests.consent_support import T0, contact
from tests.engine_support import tick
from tests.factories import published_journey
from tests.shop_support import fixture, make_source, shopify_headers


def seed(app):  # type: ignore[no-untyped-def]
    with app.app_context(), db.transaction() as s:
        ana = contact(s, "ana@example.com", country="PL")
        ana.tags = ["vip"]
        contact(s, "bob@example.com", SubscriptionStatus.unsubscribed, country="DE")
        contact(s, "cyd@example.com", SubscriptionStatus.unconfirmed, country="PL")
        version = published_journey(s, name="Welcome series")
        row = Enrollment(journey_id=version.journey_id, version_id=version.id, contact_id=ana.id, status="completed",
                         node=None, state={}, step=3, entered_at=T0, updated_at=T0)
        s.add(row)
        s.flush()
        s.add_all([EnrollmentStep(enrollment_id=row.id, at=T0, node="start", outcome="entered"),
                   EnrollmentStep(enrollment_id=row.id, at=T0, node="hello", outcome="skipped", reason="no_consent"),
                   EnrollmentStep(enrollment_id=row.id, at=T0, node="end", outcome="completed")])
        return ana.id


def test_the_list_filters_by_status_tag_and_attribute(app, client, login):
    seed(app)
    login("viewer")
    def emails(query: str) -> list[str]:
        html = client.get(f"/contacts?{query}").get_data(as_text=True)
        return [e for e in ("ana@example.com", "bob@example.com", "cyd@example.com") if e in html]
    assert emails("") == ["ana@example.com", "bob@example.com", "cyd@example.com"]
    assert emails("status=unsubscribed") == ["bob@example.com"]
    assert emails("tag=vip") == ["ana@example.com"]
    assert emails("attr=country&value=PL") == ["ana@example.com", "cyd@example.com"]
    assert emails("attr=country&value=PL&status=unconfirmed") == ["cyd@example.com"]
    assert emails("q=BOB") == ["bob@example.com"]
    bad = client.get("/contacts?status=maybe")
    assert bad.status_code == 422 and "status must be one of" in bad.get_data(as_text=True)
    partial = client.get("/contacts?tag=vip", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and "ana@example.com" in partial


def test_the_list_pages(app, client, login):
    with app.app_context(), db.transaction() as s:
        for n in range(55):
            contact(s, f"p{n:02d}@example.com")
    login("viewer")
    first = client.get("/contacts").get_data(as_text=True)
    assert "55 contacts" in first and "Next →" in first
    second = client.get("/contacts?page=2").get_data(as_text=True)
    assert "← Previous" in second and second.count("@example.com</a>") == 5


def test_the_detail_explains_the_skip_and_the_view_is_audited(app, client, login):
    ident = seed(app)
    with app.app_context(), db.transaction() as s:
        ana = s.get(Contact, ident)
        consent.change(s, ana, "marketing", "unsubscribed", source="link", now=T0, ip="192.0.2.8",
                       user_agent="Mail/1.0", details={"method": "one-click"})
        suppressions.suppress(s, ana.email, reason="bounce", source="ses", now=T0, detail="5.1.1 user unknown",
                              contact_id=ana.id)
    login("viewer")
    page = client.get(f"/contacts/{ident}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Welcome series" in html and "no marketing consent" in html  # the trace, in words
    assert "192.0.2.8" in html and "one-click" in html  # consent history
    assert "suppressed since" in html and "5.1.1 user unknown" in html
    assert "Erase this contact" not in html and "Export everything" not in html  # admins only
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contact.view")).one()
        assert (entry.actor, entry.target) == ("viewer@example.com", f"contact:{ident}")
    assert client.get("/contacts/999999").status_code == 404


def test_staff_record_a_consent_change_with_a_reason(app, client, login):
    ident = seed(app)
    login("marketer")
    csrf = page_csrf(client, f"/contacts/{ident}")
    missing = client.post(f"/contacts/{ident}/consent", data={"csrf_token": csrf, "status": "unsubscribed"})
    assert missing.status_code == 422 and "say why" in missing.get_data(as_text=True)
    done = client.post(f"/contacts/{ident}/consent", data={"csrf_token": csrf, "status": "unsubscribed",
                                                         "note": "asked by phone"})
    assert done.status_code == 302
    with app.app_context():
        ana = db.session.get(Contact, ident)
        assert ana.subscription_status == SubscriptionStatus.unsubscribed
        [record] = consent.history(db.session, ident)
        assert (record.source, record.details) == ("admin", {"note": "asked by phone"})
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "consent.change")).one()
        assert entry.actor == "marketer@example.com" and entry.details["before"] == "subscribed"


def test_an_admin_exports_the_json_download(app, client, login):
    ident = seed(app)
    login("admin")
    resp = client.get(f"/contacts/{ident}/export")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"] == f'attachment; filename="contact-{ident}.json"'
    doc = json.loads(resp.get_data(as_text=True))
    assert doc["contact"]["email"] == "ana@example.com" and doc["enrollments"][0]["journey"] == "Welcome series"


def test_the_audit_page_filters_and_pages_and_has_no_edit_routes(app, client, login):
    with app.app_context(), db.transaction() as s:
        for n in range(60):
            audit_log.write(s, actor="robot", action="contact.view", target=f"contact:{n}", now=T0 + timedelta(minutes=n))
        audit_log.write(s, actor="ewa@example.com", action="settings.update", target="workspace",
                        now=T0 + timedelta(days=3), changed={"shop_name": ["A", "B"]})
    login("admin")
    first = client.get("/settings/audit/").get_data(as_text=True)
    assert "ewa@example.com" in first and "Older →" in first
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert total > 61 and f"{total} entries" in first  # ours, and the admin's own account being made
    only = client.get("/settings/audit/?actor=ewa").get_data(as_text=True)
    assert "<code>settings.update</code>" in only and "robot" not in only
    views = client.get("/settings/audit/?action=contact.&target=contact:5").get_data(as_text=True)
    assert "contact:5<" in views and "contact:50" in views and "contact:6<" not in views
    dated = client.get(f"/settings/audit/?since={(T0 + timedelta(days=3)).date()}").get_data(as_text=True)
    assert "<code>settings.update</code>" in dated and "robot" not in dated
    day_one = client.get(f"/settings/audit/?until={T0.date()}").get_data(as_text=True)
    assert "robot" in day_one and "<code>settings.update</code>" not in day_one
    bad = client.get("/settings/audit/?since=yesterday")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    rules = {(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods if r.rule.startswith("/settings/audit")}
    assert rules <= {("/settings/audit/", "GET"), ("/settings/audit/", "HEAD"), ("/settings/audit/", "OPTIONS")}


def test_shopify_privacy_webhooks_are_carried_out_by_the_tick(app, client):
    clock.set_source(lambda: T0)
    shop = make_source(app, "shopify", name="Main store")
    with app.app_context(), db.transaction() as s:
        john = contact(s, "john@example.com")
        john.external_id = "191167"
        ident = john.id
    for topic, name in (("customers/data_request", "customers_data_request.json"),
                        ("customers/redact", "customers_redact.json")):
        body = json.dumps(fixture(f"shopify/{name}")).encode()
        resp = client.post(shop.path, data=body, headers=shopify_headers(topic, body, shop.secret))
        assert resp.status_code == 200 and resp.get_json()["status"] == "privacy"
    with app.app_context():
        assert [r.status for r in db.session.scalars(select(PrivacyRequest))] == ["recorded", "recorded"]
    tick(app)
    with app.app_context():
        export_req, erase_req = db.session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)).all()
        assert export_req.status == "done" and f"export of contact {ident} is ready" in export_req.outcome
        assert erase_req.status == "done" and erase_req.outcome == f"erased contact {ident}"
        assert erase_req.customer_email is None and export_req.customer_email is None
        john = db.session.get(Contact, ident)
        assert john.erased_at is not None and john.email.endswith("@erased.invalid")
        assert db.session.scalar(select(Suppression.reason).where(
            Suppression.email_hash == email_digest("john@example.com"))) == "erasure"
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert "privacy.export" in actions and "privacy.erasure" in actions and "contact.erase" in actions


def test_a_shop_redact_erases_the_contacts_known_only_from_that_shop(app, client):
    from tests.engine_support import post, work

    clock.set_source(lambda: T0)
    shop = make_source(app, "shopify", name="Main store")
    post(app, {"event": "order_placed", "contact": {"email": "only-shop@example.com"}}, source="shopify:Main store")
    post(app, {"event": "order_placed", "contact": {"email": "both@example.com"}}, source="shopify:Main store")
    post(app, {"event": "signed_up", "contact": {"email": "both@example.com"}}, source="api")
    work(app)
    body = json.dumps(fixture("shopify/shop_redact.json")).encode()
    assert client.post(shop.path, data=body, headers=shopify_headers("shop/redact", body, shop.secret)).status_code == 200
    tick(app)
    with app.app_context():
        erased = {c.id for c in db.session.scalars(select(Contact).where(Contact.erased_at.is_not(None)))}
        kept = db.session.scalar(select(Contact).where(Contact.email == "both@example.com"))
        assert len(erased) == 1 and kept is not None and kept.erased_at is None
        assert db.session.scalars(select(PrivacyRequest)).one().status == "done"


def test_the_suppression_list_blocks_an_address_by_hand(app, client, login):
    login("admin")
    csrf = page_csrf(client, "/settings/suppressions/")
    bad = client.post("/settings/suppressions/", data={"csrf_token": csrf, "email": "not an address"})
    assert bad.status_code == 422
    assert client.post("/settings/suppressions/", data={"csrf_token": csrf, "email": "Trap@Example.com",
                                                       "detail": "spam trap"}).status_code == 302
    html = client.get("/settings/suppressions/?reason=manual").get_data(as_text=True)
    assert "spam trap" in html and "address not stored" in html
    assert client.get("/settings/suppressions/?reason=nope").status_code == 422
    found = client.get("/settings/suppressions/?email=trap@example.com").get_data(as_text=True)
    assert "spam trap" in found
    with app.app_context():
        assert db.session.scalar(select(Suppression.reason).where(
            Suppression.email_hash == email_digest("trap@example.com"))) == "manual"
    assert csrf_from(html)
