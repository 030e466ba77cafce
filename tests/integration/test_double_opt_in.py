"""Double opt-in: a confirmation email first, no marketing mail before the click, mail after it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app import clock, create_app
from app.db import db
from app.models import ConsentRecord, Contact, EnrollmentStep, Message, SubscriptionStatus
from app.services import workspace
from tests.engine_support import SMTPServer, chain, event, journey, post, run_until_quiet, send, template, wait, work

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
LINK = re.compile(r"http://127\.0\.0\.1:5000(/confirm/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def engine_app(app, settings, smtp):  # type: ignore[no-untyped-def]
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    with application.app_context(), db.transaction() as s:
        workspace.update(s, {"double_opt_in": True, "shop_name": "Kwiaciarnia Róża"}, actor="test", now=T0)
        template(s, "welcome", "Welcome", now=T0)
        journey(s, chain("signed_up", wait("settle", "PT1H"), send("hello", "welcome")), now=T0)
    yield application
    application.extensions["db_engine"].dispose()


def contact_of(application: Any, email: str) -> Contact:
    with application.app_context():
        return db.session.scalar(select(Contact).where(Contact.email == email))


def confirm_path(mail: Any) -> str:
    found = LINK.search(mail.get_body(("plain",)).get_content())
    assert found, "the confirmation email has no link"
    return found.group(1)


def test_no_marketing_mail_before_the_click_and_mail_after_it(engine_app, smtp):
    post(engine_app, event("signed_up", "ada@example.com"))
    post(engine_app, event("signed_up", "never@example.com"))
    work(engine_app)
    assert contact_of(engine_app, "ada@example.com").subscription_status == SubscriptionStatus.unconfirmed
    [confirmation] = smtp.box.to("ada@example.com")
    assert confirmation["Subject"] == "Please confirm your subscription to Kwiaciarnia Róża"
    assert confirmation["List-Unsubscribe"] is None  # transactional: no unsubscribe headers
    path = confirm_path(confirmation)

    web = engine_app.test_client(use_cookies=False)
    for _ in range(2):  # a mail scanner follows the link: nothing is confirmed
        page = web.get(path)
        assert page.status_code == 200 and '<form method="post"' in page.get_data(as_text=True)
    assert contact_of(engine_app, "ada@example.com").subscription_status == SubscriptionStatus.unconfirmed

    clock.set_source(lambda: T0 + timedelta(minutes=30))
    done = web.post(path, environ_base={"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "Firefox/140"})
    assert done.status_code == 200 and "Your subscription is confirmed" in done.get_data(as_text=True)
    assert contact_of(engine_app, "ada@example.com").subscription_status == SubscriptionStatus.subscribed
    assert "already" in web.post(path).get_data(as_text=True).lower()  # a second click changes nothing

    run_until_quiet(engine_app, T0 + timedelta(hours=1, minutes=1))
    subjects = [m["Subject"] for m in smtp.box.to("ada@example.com")]
    assert subjects == ["Please confirm your subscription to Kwiaciarnia Róża", "Welcome"]
    never = [m["Subject"] for m in smtp.box.to("never@example.com")]
    assert never == ["Please confirm your subscription to Kwiaciarnia Róża"]  # no click: no marketing mail
    with engine_app.app_context():
        records = [(r.status, r.source, r.ip, r.user_agent, r.wording) for r in db.session.scalars(
            select(ConsentRecord).where(ConsentRecord.contact_id == contact_of(engine_app, "ada@example.com").id)
            .order_by(ConsentRecord.id))]
        assert records == [("unconfirmed", "api", None, None, None),
                           ("subscribed", "confirmation", "198.51.100.7", "Firefox/140", "v1")]
        skipped = db.session.scalars(select(EnrollmentStep).join(Message, Message.enrollment_id == EnrollmentStep.enrollment_id, isouter=True)
                                     .where(EnrollmentStep.node == "hello", EnrollmentStep.outcome == "skipped")).all()
        assert [s.reason for s in skipped] == ["unconfirmed"]


def test_one_confirmation_email_per_day_however_often_they_sign_up(engine_app, smtp):
    for n in range(3):
        post(engine_app, event("signed_up", "eager@example.com", key=f"signup-{n}"))
    work(engine_app)
    assert len(smtp.box.to("eager@example.com")) == 1


def test_a_source_can_skip_double_opt_in(engine_app, smtp):
    with engine_app.app_context(), db.transaction() as s:
        workspace.update(s, {"double_opt_in_sources": {"webhook": False}}, actor="test", now=T0)
    post(engine_app, event("signed_up", "shopper@example.com"), source="shopify:Main store")
    post(engine_app, event("signed_up", "api@example.com"), source="api:jrny_abc")
    work(engine_app)
    assert contact_of(engine_app, "shopper@example.com").subscription_status == SubscriptionStatus.subscribed
    assert contact_of(engine_app, "api@example.com").subscription_status == SubscriptionStatus.unconfirmed
    assert smtp.box.to("shopper@example.com") == []  # no confirmation needed, and the welcome waits an hour
    run_until_quiet(engine_app, T0 + timedelta(hours=2))
    assert [m["Subject"] for m in smtp.box.to("shopper@example.com")] == ["Welcome"]


def test_a_confirmation_after_the_contact_unsubscribed_does_not_subscribe(engine_app, smtp):
    post(engine_app, event("signed_up", "changed@example.com"))
    work(engine_app)
    path = confirm_path(smtp.box.to("changed@example.com")[0])
    with engine_app.app_context(), db.transaction() as s:
        from app.services import consent

        consent.change(s, s.scalar(select(Contact).where(Contact.email == "changed@example.com")), "marketing",
                       "unsubscribed", source="api", now=T0)
    page = engine_app.test_client(use_cookies=False).post(path)
    assert "no longer applies" in page.get_data(as_text=True)
    assert contact_of(engine_app, "changed@example.com").subscription_status == SubscriptionStatus.unsubscribed


def test_an_expired_or_forged_link_is_refused(engine_app, smtp):
    post(engine_app, event("signed_up", "slow@example.com"))
    work(engine_app)
    path = confirm_path(smtp.box.to("slow@example.com")[0])
    web = engine_app.test_client(use_cookies=False)
    assert web.post(path[:-3] + "xyz").status_code == 404
    clock.set_source(lambda: T0 + timedelta(days=31))
    resp = web.post(path)
    assert resp.status_code == 404 and "30 days" in resp.get_data(as_text=True)
    assert contact_of(engine_app, "slow@example.com").subscription_status == SubscriptionStatus.unconfirmed
    assert urlsplit(path).path.startswith("/confirm/")
