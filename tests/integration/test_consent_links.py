"""The links in every marketing email: RFC 8058 one-click unsubscribe, the confirm page, the
preference center; and what a later send does about them (skipped, with the reason traced)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app import clock, create_app
from app.db import db
from app.models import AuditEntry, ConsentRecord, Contact, EnrollmentStep, Message, SubscriptionStatus
from app.services import contact_links
from tests.engine_support import SMTPServer, chain, event, journey, post, run_until_quiet, send, template, wait, work

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


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


def setup(application: Any, graph: dict[str, Any], *slugs: str, body: str = "<mj-text>Hello</mj-text>") -> None:
    with application.app_context(), db.transaction() as s:
        for slug in slugs:
            template(s, slug, slug.title(), body, now=T0)
        journey(s, graph, now=T0)


def the_contact(application: Any) -> Contact:
    with application.app_context():
        return db.session.scalars(select(Contact)).one()


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_one_click_post_unsubscribes_with_no_session_and_the_next_send_is_skipped_with_the_reason(engine_app, smtp):
    setup(engine_app, chain("signed_up", send("hello", "welcome"), wait("pause", "P1D"), send("tips", "tips")),
          "welcome", "tips")
    post(engine_app, event("signed_up", "klara@example.com"))
    work(engine_app)
    [mail] = smtp.box.to("klara@example.com")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://127.0.0.1:5000/u/")

    # The mailbox provider's POST: no cookie, no CSRF token, no login, form-encoded as RFC 8058 says.
    provider = engine_app.test_client(use_cookies=False)
    resp = provider.post(path_of(url), data="List-Unsubscribe=One-Click",
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         environ_base={"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "Gmail one-click"})
    assert resp.status_code == 200 and "Location" not in resp.headers
    assert "You are unsubscribed" in resp.get_data(as_text=True)
    assert the_contact(engine_app).subscription_status == SubscriptionStatus.unsubscribed
    with engine_app.app_context():
        record = db.session.scalars(select(ConsentRecord)).all()[-1]
        assert (record.status, record.source, record.ip, record.user_agent) == (
            "unsubscribed", "link", "203.0.113.9", "Gmail one-click")
        sent_key = db.session.scalars(select(Message.key)).one()
        assert record.details == {"method": "one-click", "message": sent_key}
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "consent.change")).all()[-1]
        assert audit.actor.startswith("contact:") and audit.details["after"] == "unsubscribed"

    run_until_quiet(engine_app, T0 + timedelta(days=2))
    assert len(smtp.box.to("klara@example.com")) == 1  # the tips never went
    with engine_app.app_context():
        step = db.session.scalars(select(EnrollmentStep).where(EnrollmentStep.node == "tips")).one()
        assert (step.outcome, step.reason) == ("skipped", "unsubscribed")


def test_a_message_queued_before_the_unsubscribe_is_not_sent_and_the_trace_says_so(engine_app, smtp):
    setup(engine_app, chain("signed_up", send("hello", "welcome")), "welcome")
    post(engine_app, event("signed_up", "late@example.com"))
    with engine_app.app_context():  # the step ran; its delivery job has not
        from app.services import events
        events.process_pending(db.session, T0)
        contact_id = db.session.scalars(select(Contact.id)).one()
    url = contact_links.unsubscribe_url(engine_app.config["SETTINGS"], contact_id, "some-message")
    assert engine_app.test_client(use_cookies=False).post(path_of(url)).status_code == 200  # our page's button
    work(engine_app)
    run_until_quiet(engine_app, T0 + timedelta(minutes=5))  # the reconciler sends what no job holds
    assert smtp.box.count() == 0
    with engine_app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert (message.status, message.last_error) == ("suppressed", "unsubscribed")
        steps = [(s.node, s.outcome, s.reason) for s in db.session.scalars(
            select(EnrollmentStep).order_by(EnrollmentStep.id))]
        assert ("hello", "not_sent", "unsubscribed") in steps


def test_get_never_unsubscribes_it_shows_a_button_and_the_preference_center(engine_app):
    with engine_app.app_context(), db.transaction() as s:
        row = Contact(email="scan@example.com", attributes={}, tags=[], created_at=T0, updated_at=T0,
                      subscription_status=SubscriptionStatus.subscribed)
        s.add(row)
        s.flush()
        ident = row.id
    settings = engine_app.config["SETTINGS"]
    web = engine_app.test_client(use_cookies=False)
    for _ in range(3):  # a link scanner fetching it again and again
        page = web.get(path_of(contact_links.unsubscribe_url(settings, ident, "k")))
        assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<form method="post"' in html and "Unsubscribe" in html
    assert path_of(contact_links.preferences_url(settings, ident)) in html
    assert page.headers["Cache-Control"] == "no-store" and '<meta name="referrer" content="no-referrer">' in html
    assert the_contact(engine_app).subscription_status == SubscriptionStatus.subscribed


def test_the_preference_center_unsubscribes_and_resubscribes(engine_app):
    with engine_app.app_context(), db.transaction() as s:
        row = Contact(email="pref@example.com", attributes={}, tags=[], created_at=T0, updated_at=T0,
                      subscription_status=SubscriptionStatus.subscribed)
        s.add(row)
        s.flush()
        ident = row.id
    path = path_of(contact_links.preferences_url(engine_app.config["SETTINGS"], ident))
    web = engine_app.test_client(use_cookies=False)
    page = web.get(path).get_data(as_text=True)
    assert "pref@example.com" in page and 'value="subscribed" checked' in page
    assert web.post(path, data={"marketing": "unsubscribed"}).status_code == 200
    assert the_contact(engine_app).subscription_status == SubscriptionStatus.unsubscribed
    bad = web.post(path, data={"marketing": "maybe"})
    assert bad.status_code == 422 and the_contact(engine_app).subscription_status == SubscriptionStatus.unsubscribed
    again = web.post(path, data={"marketing": "subscribed"})
    assert again.status_code == 200 and "You will get our marketing emails" in again.get_data(as_text=True)
    assert the_contact(engine_app).subscription_status == SubscriptionStatus.subscribed
    with engine_app.app_context():
        records = [(r.status, r.source, r.wording) for r in db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id))]
    assert records == [("unsubscribed", "link", None), ("subscribed", "link", "v1")]


@pytest.mark.parametrize("path", ["/u/not-a-token", "/preferences/not-a-token", "/confirm/not-a-token"])
def test_forged_tokens_are_refused_and_change_nothing(engine_app, path):
    web = engine_app.test_client(use_cookies=False)
    for method in ("GET", "POST"):
        resp = web.open(path, method=method)
        assert resp.status_code == 404 and "not valid" in resp.get_data(as_text=True)
        assert "workspace" not in resp.get_data(as_text=True).lower()  # the contact sees no staff page


def test_a_token_for_another_purpose_is_refused(engine_app):
    with engine_app.app_context(), db.transaction() as s:
        row = Contact(email="mix@example.com", attributes={}, tags=[], created_at=T0, updated_at=T0,
                      subscription_status=SubscriptionStatus.subscribed)
        s.add(row)
        s.flush()
        ident = row.id
    prefs_token = path_of(contact_links.preferences_url(engine_app.config["SETTINGS"], ident)).rsplit("/", 1)[1]
    resp = engine_app.test_client(use_cookies=False).post(f"/u/{prefs_token}")
    assert resp.status_code == 404 and the_contact(engine_app).subscription_status == SubscriptionStatus.subscribed


def test_a_marketing_template_without_an_unsubscribe_link_gets_a_footer(engine_app, smtp):
    with engine_app.app_context(), db.transaction() as s:
        from app.models import Template, TemplateVersion

        row = Template(slug="bare", name="Bare", category="marketing", created_at=T0, updated_at=T0)
        s.add(row)
        s.flush()
        s.add(TemplateVersion(template_id=row.id, number=1, subject="Sale", preheader="", created_at=T0,
                              mjml="<mjml><mj-body><mj-section><mj-column><mj-text>Big sale</mj-text>"
                                   "</mj-column></mj-section></mj-body></mjml>"))
        journey(s, chain("signed_up", send("sale", "bare")), now=T0)
    post(engine_app, event("signed_up", "foot@example.com"))
    work(engine_app)
    [mail] = smtp.box.to("foot@example.com")
    url = mail["List-Unsubscribe"].strip("<>")
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert re.search(rf'href="{re.escape(url)}"[^>]*>Unsubscribe</a>', html)
    assert f"Unsubscribe: {url}" in text
