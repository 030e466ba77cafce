"""consent.change, the one door for consent: records, refusals, and the workspace's consent mode
honoured by the journey core and by delivery alike."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import func, select

from app import clock, create_app
from app.db import db
from app.errors import ValidationFailed
from app.models import AuditEntry, ConsentRecord, Contact, EnrollmentStep, SubscriptionStatus
from app.services import consent, suppressions, workspace
from tests.consent_support import contact
from tests.engine_support import SMTPServer, chain, journey, post, send, template, work

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def test_each_change_is_a_new_record_and_a_repeat_records_nothing(app):
    with app.app_context(), db.transaction() as s:
        row = contact(s, "rec@example.com", SubscriptionStatus.never_subscribed)
        first = consent.change(s, row, "marketing", "subscribed", source="form", now=T0, ip="192.0.2.1",
                               user_agent="Browser", wording="signup-2026-11")
        assert first is not None and row.subscription_status == SubscriptionStatus.subscribed
        assert consent.change(s, row, "marketing", "subscribed", source="webhook", now=T0) is None
        consent.change(s, row, "marketing", SubscriptionStatus.unsubscribed, source="import", now=T0 + timedelta(1))
        history = [(r.status, r.source, r.wording) for r in consent.history(s, row.id)]
        assert history == [("unsubscribed", "import", None), ("subscribed", "form", "signup-2026-11")]
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "consent.change")) == 2


def test_bad_input_is_refused_and_changes_nothing(app):
    with app.app_context(), db.transaction() as s:
        row = contact(s, "bad@example.com")
        with pytest.raises(ValidationFailed, match="category"):
            consent.change(s, row, "transactional", "unsubscribed", source="api", now=T0)
        with pytest.raises(ValidationFailed, match="status"):
            consent.change(s, row, "marketing", "maybe", source="api", now=T0)
        assert row.subscription_status == SubscriptionStatus.subscribed
        assert s.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_a_suppressed_address_is_not_subscribed_by_any_upsert(app):
    with app.app_context(), db.transaction() as s:
        suppressions.suppress(s, "blocked@example.com", reason="complaint", source="ses", now=T0)
    post(app, {"event": "signed_up", "contact": {"email": "blocked@example.com", "consent": {"marketing": "subscribed"}}})
    work(app)
    with app.app_context():
        row = db.session.scalar(select(Contact).where(Contact.email == "blocked@example.com"))
        assert row.subscription_status == SubscriptionStatus.never_subscribed
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_upserts_record_where_consent_came_from(app):
    post(app, {"event": "signed_up", "contact": {"email": "shop@example.com", "consent": {"marketing": "subscribed"}}},
         source="shopify:Main store")
    work(app)
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        assert (record.status, record.source, record.details) == ("subscribed", "webhook", {"via": "shopify:Main store"})


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


def test_not_unsubscribed_mode_mails_the_never_subscribed_but_never_the_unconfirmed(app, settings, smtp):
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    with application.app_context(), db.transaction() as s:
        workspace.update(s, {"marketing_consent": "not_unsubscribed"}, actor="test", now=T0)
        template(s, "news", "News", now=T0)
        journey(s, chain("visited", send("n", "news")), now=T0)
    for email, status in (("quiet@example.com", None), ("pending@example.com", "unconfirmed"),
                          ("gone@example.com", "unsubscribed")):
        data = {"event": "visited", "contact": {"email": email}}
        if status:
            data["contact"]["consent"] = {"marketing": status}
        post(application, data)
    work(application)
    assert [m["Subject"] for m in smtp.box.to("quiet@example.com")] == ["News"]
    assert smtp.box.to("pending@example.com") == [] and smtp.box.to("gone@example.com") == []
    with application.app_context():
        reasons = sorted(s.reason for s in db.session.scalars(select(EnrollmentStep).where(
            EnrollmentStep.outcome == "skipped")))
        assert reasons == ["unconfirmed", "unsubscribed"]
    application.extensions["db_engine"].dispose()
