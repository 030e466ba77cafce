"""The demo shop loaded through the services, on the suite's database (SQLite or PostgreSQL): the
state is what the event pipeline makes of the history, the journeys validate and are live, the
templates compile and render, a second load and a load into a busy instance change nothing."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.db import db
from app.demo import catalog, loader, population
from app.errors import Conflict
from app.models import (AuditEntry, ConsentRecord, Contact, Enrollment, Event, Journey, JourneyStatus, Message,
                        Source, SourceKind, Template, User)
from app.services import journeys as journey_service
from app.services import templates as template_service
from app.services import versions, workspace
from journeys.rendering import template_has_unsubscribe_link
from tests.conftest import make_user

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
COUNT = 80


def _load(app, settings, count: int = COUNT) -> loader.Report:  # type: ignore[no-untyped-def]
    done = []
    with app.app_context():
        report = loader.load(db.session, settings, now=NOW, by="cli:test", count=count, advance=done.append)
    assert sum(done) == loader.work(count, now=NOW)  # the progress bar ends full
    return report


def _counts(s) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Contact, ConsentRecord, Event, Journey, Template, Source, Enrollment, Message, AuditEntry)}


def test_the_history_goes_through_the_pipeline_and_gives_its_metrics(app, settings):
    report = _load(app, settings)
    people = population.population(NOW, count=COUNT)
    assert report.contacts == COUNT and report.orders == sum(len(p.orders) for p in people)
    with app.app_context():
        s = db.session
        contacts = {c.email: c for c in s.scalars(select(Contact))}
        assert len(contacts) == COUNT
        for p in people:
            c = contacts[p.email]
            assert c.external_id == str(p.customer_id) and (c.timezone, c.locale) == (p.timezone, p.locale)
            assert c.attributes["first_name"] == p.first_name and c.attributes["country"] == p.country.code
            assert c.tags == p.tags and c.created_at == p.signed_up_at
            assert c.orders_count == len(p.orders), p.email
            assert Decimal(c.total_spent) == p.total_spent, p.email
            assert c.last_order_at == (p.orders[-1].at if p.orders else None), p.email
        orders = s.scalars(select(Event).where(Event.name == "order_placed")).all()
        assert len(orders) == report.orders
        assert all(e.processed_at is not None and e.error is None for e in orders)
        assert {e.source for e in orders} == {"shopify:" + loader.SOURCE_NAME}
        source = s.scalar(select(Source))
        assert source.kind == SourceKind.shopify and source.cart_window_seconds == loader.CART_WINDOW
        assert len(source.secret) >= 32
        assert {e.idempotency_key for e in orders} == {f"shopify:{source.slug}:order:{o.order_id}"
                                                       for p in people for o in p.orders}
        assert s.scalar(select(func.count()).select_from(Enrollment)) == 0  # history enrolls nobody
        assert s.scalar(select(func.count()).select_from(Message)) == 0  # and mails nobody


def test_consent_is_recorded_as_it_happened_through_the_consent_service(app, settings):
    _load(app, settings)
    people = {p.email: p for p in population.population(NOW, count=COUNT)}
    with app.app_context():
        s = db.session
        status = Counter()
        for c in s.scalars(select(Contact)):
            p = people[c.email]
            status[c.subscription_status.value] += 1
            history = [(r.status, r.source, r.at) for r in s.scalars(
                select(ConsentRecord).where(ConsentRecord.contact_id == c.id).order_by(ConsentRecord.id))]
            expected = {"none": [], "unconfirmed": [("unconfirmed", "form", p.signed_up_at)],
                        "subscribed": [("unconfirmed", "form", p.signed_up_at),
                                       ("subscribed", "confirmation", p.confirmed_at)],
                        "unsubscribed": [("unconfirmed", "form", p.signed_up_at),
                                         ("subscribed", "confirmation", p.confirmed_at),
                                         ("unsubscribed", "link", p.unsubscribed_at)]}[p.consent]
            assert history == expected, c.email
            assert c.subscription_status.value == {"none": "never_subscribed"}.get(p.consent, p.consent)
        assert status["subscribed"] > COUNT // 2 and status["unsubscribed"] and status["unconfirmed"]
        records = s.scalar(select(func.count()).select_from(ConsentRecord))
        audited = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "consent.change"))
        assert records == audited  # every change is in the audit log too
        ws = workspace.current(s)
        assert ws.double_opt_in and ws.shop_name == "Alder & Stone Outfitters" and ws.shop_address


def test_four_journeys_are_live_and_validate_and_every_template_compiles(app, settings):
    report = _load(app, settings)
    with app.app_context():
        s = db.session
        journeys = s.scalars(select(Journey).order_by(Journey.id)).all()
        assert [j.name for j in journeys] == ["Welcome series (double opt-in)", "Abandoned cart (A/B subject test)",
                                              "Post-purchase follow-up with cross-sell", "Win-back after 90 days"]
        assert [j.id for j in journeys] == [j for j, _ in report.journeys]
        for journey in journeys:
            assert journey.status == JourneyStatus.active
            live = journey_service.live_version(s, journey)
            assert live is not None and live.graph == journey.draft
            assert not versions.check(s, journey, live.graph).errors, journey.name
        triggers = [j.draft["nodes"][0]["config"]["event"] for j in journeys]
        assert triggers == ["customer_created", "cart_abandoned", "order_placed", "order_placed"]
        slugs = set(s.scalars(select(Template.slug)))
        assert slugs == {"welcome", "welcome-followup", "cart-reminder", "cart-reminder-b", "cart-last-chance",
                         "post-purchase", "win-back"} == set(report.templates)
        for template in s.scalars(select(Template)):
            version = template_service.latest_version(s, template)
            assert not template_service.check_source(version.subject, version.preheader or "", version.mjml)
            assert template.category == "marketing" and template_has_unsubscribe_link(version.mjml), template.slug
        a, b = (template_service.latest_version(s, s.scalar(select(Template).where(Template.slug == slug)))
                for slug in ("cart-reminder", "cart-reminder-b"))
        assert a.mjml == b.mjml and a.subject != b.subject  # the test measures the subject alone


def test_the_post_purchase_email_suggests_what_goes_with_the_order(app, settings):
    _load(app, settings)
    person = next(p for p in population.population(NOW, count=COUNT) if p.orders)
    order = person.orders[-1]
    with app.app_context():
        s = db.session
        event = s.scalars(select(Event).where(Event.idempotency_key.like(f"%:order:{order.order_id}"))).one()
        contact = s.scalar(select(Contact).where(Contact.email == person.email))
        version = template_service.latest_version(s, s.scalar(select(Template).where(Template.slug == "post-purchase")))
        email = template_service.render_preview(s, version, contact=contact, sample={"event": event.properties},
                                                settings=settings)
    bought = {line.sku for line in order.lines}
    expected = [catalog.BY_SKU[sku] for sku in catalog.GOES_WITH[order.lines[0].sku] if sku not in bought]
    assert "You might also like" in email.html and expected
    for product in expected:
        assert product.title in email.html and catalog.image_url(settings.base_url, product.sku) in email.html
    assert catalog.BY_SKU[order.lines[0].sku].title in email.html  # the order itself, above
    with app.app_context():  # an event that brings its own recommendations still wins
        own = {**event.properties, "recommendations": [{"title": "Gift card", "price": "50.00", "url": "https://x"}]}
        email = template_service.render_preview(db.session, version, contact=None, sample={"event": own},
                                                settings=settings)
    assert "Gift card" in email.html and expected[0].title not in email.html.split("You might also like")[1]


def test_a_second_load_changes_nothing_and_says_so(app, settings):
    _load(app, settings, count=30)
    with app.app_context():
        before = _counts(db.session)
        with pytest.raises(Conflict, match="loaded already"):
            loader.load(db.session, settings, now=NOW, by="cli:test", count=30)
        db.session.rollback()
        assert _counts(db.session) == before


def test_an_instance_with_data_of_its_own_is_refused_untouched(app, settings):
    with app.app_context():
        with db.transaction() as s:
            s.add(Contact(email="real@shop.example", attributes={}, tags=[], created_at=NOW, updated_at=NOW))
        before = _counts(db.session)
        with pytest.raises(Conflict, match="holds 1 contacts"):
            loader.load(db.session, settings, now=NOW, by="cli:test", count=30)
        db.session.rollback()
        assert _counts(db.session) == before and not db.session.scalar(select(Source))
        with pytest.raises(Conflict, match="never loaded"):
            loader.reset(db.session, settings, now=NOW, by="cli:test")
        db.session.rollback()
        assert _counts(db.session) == before


def test_reset_empties_a_demo_instance_but_keeps_its_users_then_it_loads_again(app, settings):
    make_user(app, "owner@example.com", "admin")
    _load(app, settings, count=30)
    outbox = settings.outbox_path
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / "20250601T120000000000Z-demo-test-abc123.eml").write_bytes(b"Subject: old\r\n\r\nold demo mail\r\n")
    with app.app_context():
        removed = loader.reset(db.session, settings, now=NOW, by="cli:test")
        counts = _counts(db.session)
        assert counts["contacts"] == counts["events"] == counts["journeys"] == counts["sources"] == 0
        assert db.session.scalar(select(User.email)) == "owner@example.com"
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "demo.reset"))
    assert removed >= 1 and not list(outbox.glob("*demo-test*"))
    assert _load(app, settings, count=30).contacts == 30
