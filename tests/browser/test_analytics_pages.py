"""The report and dashboard pages in a real browser: the charts draw under the CSP (no violation,
no script error), the figures match the API's; screenshots for the docs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from app import clock
from app.db import db
from app.models import (ConsentRecord, Contact, Engagement, Enrollment, EnrollmentStep, Event, Journey, JourneyStatus,
                        JourneyVersion, Message, SubscriptionStatus, TrackingHit)
from tests.conftest import PASSWORD, make_user
from tests.engine_support import template

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NOW = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
GRAPH: dict[str, Any] = {
    "schema": 1, "settings": {"exit_events": ["order_placed"], "holdout_percent": 10},
    "nodes": [{"id": "start", "type": "trigger", "config": {"event": "cart_abandoned"}},
              {"id": "wait", "type": "wait", "config": {"duration": "PT1H"}},
              {"id": "subject", "type": "ab_split", "config": {
                  "variants": [{"key": "A", "weight": 50, "label": "Forgot something?"},
                               {"key": "B", "weight": 50, "label": "10% off your cart"}],
                  "auto_winner": {"metric": "click", "min_recipients": 500, "probability": 0.9}}},
              {"id": "remind_a", "type": "send", "config": {"template": "cart-reminder"}},
              {"id": "remind_b", "type": "send", "config": {"template": "cart-discount"}},
              {"id": "end", "type": "exit"}],
    "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "subject"},
              {"from": "subject", "to": "remind_a", "port": "A"}, {"from": "subject", "to": "remind_b", "port": "B"},
              {"from": "remind_a", "to": "end"}, {"from": "remind_b", "to": "end"}],
    "ui": {"positions": {}}}


def _history(app) -> int:  # type: ignore[no-untyped-def]
    """Two weeks of an abandoned-cart journey: entries, sends, opens, clicks, orders, a holdout."""
    with app.app_context():
        with db.transaction() as s:
            journey = Journey(name="Abandoned cart", status=JourneyStatus.active, draft=GRAPH,
                              created_at=NOW - timedelta(days=20), updated_at=NOW - timedelta(days=20))
            s.add(journey)
            s.flush()
            version = JourneyVersion(journey_id=journey.id, number=1, graph=GRAPH,
                                     published_at=NOW - timedelta(days=20))
            s.add(version)
            for slug, subject in (("cart-reminder", "Forgot something?"), ("cart-discount", "10% off your cart")):
                template(s, slug, subject, '<mj-text><a href="https://shop.example/cart">Back to your cart</a></mj-text>',
                         now=NOW - timedelta(days=20))
            s.flush()
            n = 0
            for day in range(14):
                start = NOW - timedelta(days=14 - day, hours=-8)
                for i in range(18 + (day * 7) % 11):
                    n += 1
                    entered = start + timedelta(minutes=37 * i)
                    who = Contact(email=f"shopper{n}@example.com", attributes={}, tags=[],
                                  subscription_status=SubscriptionStatus.subscribed, created_at=entered,
                                  updated_at=entered)
                    s.add(who)
                    s.flush()
                    s.add(ConsentRecord(contact_id=who.id, category="marketing", status="subscribed", source="webhook",
                                        at=entered))
                    holdout = n % 10 == 0
                    enrollment = Enrollment(journey_id=journey.id, version_id=version.id, contact_id=who.id,
                                            status="completed", node="end", state={}, step=4, holdout=holdout,
                                            entered_at=entered, updated_at=entered)
                    s.add(enrollment)
                    s.flush()
                    variant = _steps(s, enrollment, entered, holdout, n)
                    if not holdout:
                        _mail(s, who, enrollment, n, entered + timedelta(hours=1), variant)
                    if (n % 70 == 0) if holdout else (n % 5 == 0 or n % 7 == 0):
                        at = entered + timedelta(hours=5)
                        s.add(Event(name="order_placed", contact_id=who.id, properties={"total": 35 + n % 60},
                                    occurred_at=at, received_at=at, source="shop", processed_at=at))
            return journey.id


def _steps(s: Any, enrollment: Any, entered: datetime, holdout: bool, n: int) -> str:
    variant = "A" if n % 2 else "B"
    woke = entered + timedelta(hours=1)
    send = "remind_a" if variant == "A" else "remind_b"
    for node, outcome, at, detail in (("start", "entered", entered, None), ("wait", "waiting", entered, None),
                                      ("wait", "resumed", woke, None), ("subject", "passed", woke, {"port": variant}),
                                      (send, "skipped" if holdout else "sent", woke, None),
                                      ("end", "completed", woke, None)):
        s.add(EnrollmentStep(enrollment_id=enrollment.id, at=at, node=node, outcome=outcome,
                             reason="holdout" if holdout and outcome == "skipped" else None, detail=detail))
    return variant


def _mail(s: Any, who: Any, enrollment: Any, n: int, sent: datetime, variant: str) -> None:
    message = Message(key=f"shot:{n}", contact_id=who.id, enrollment_id=enrollment.id,
                      node="remind_a" if variant == "A" else "remind_b", variant=variant, category="marketing",
                      status="sent", attempts=1, to_email=who.email, subject="Your cart", created_at=sent,
                      updated_at=sent, sent_at=sent)
    s.add(message)
    s.flush()
    if n % 9 == 0:  # Apple's proxy opens on arrival
        s.add(TrackingHit(message_id=message.id, kind="open", at=sent + timedelta(seconds=3), machine="apple_proxy"))
        s.add(Engagement(message_id=message.id, kind="open", position=0, enrollment_id=enrollment.id,
                         node=message.node, first_at=sent + timedelta(seconds=3)))
        return
    if n % 3 == 0 or n % 5 == 0:
        opened = sent + timedelta(minutes=40)
        s.add(TrackingHit(message_id=message.id, kind="open", at=opened))
        s.add(Engagement(message_id=message.id, kind="open", position=0, enrollment_id=enrollment.id,
                         node=message.node, first_at=opened, human_at=opened))
        if n % 7 == 0 or variant == "B" and n % 4 == 0:
            clicked = opened + timedelta(minutes=2)
            s.add(TrackingHit(message_id=message.id, kind="click", position=1, at=clicked))
            s.add(Engagement(message_id=message.id, kind="click", position=1, enrollment_id=enrollment.id,
                             node=message.node, first_at=clicked, human_at=clicked))


def _sign_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/journeys")


def test_the_report_page_draws_its_charts_under_the_csp(app, page):
    clock.set_source(lambda: NOW)
    journey_id = _history(app)
    make_user(app, "mia@example.com", "marketer")
    page.set_viewport_size({"width": 1360, "height": 1500})
    _sign_in(page, "mia@example.com")
    page.goto(f"/journeys/{journey_id}/report")
    page.wait_for_selector("body[data-charts-ready='3']")
    for chart in ("chart-flow", "chart-engagement", "chart-revenue"):
        box = page.locator(f"#{chart}").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100
        # Chart.js drew something: the canvas is not blank.
        assert page.evaluate(f"""() => {{
            const c = document.getElementById('{chart}');
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            return data.some((v, i) => i % 4 === 3 && v !== 0);
        }}""")
    assert page.evaluate("() => window.journeyReportCharts.map(c => c.data.datasets.length)") == [2, 2, 2]
    assert "Not enough data yet" in page.inner_text(".ab-result")
    assert "The journey caused about" in page.inner_text(".lift-reading")
    sent = page.locator("[data-kpi=sent] .kpi-value").inner_text()
    with app.app_context():
        assert int(sent) == db.session.query(Message).filter(Message.sent_at.is_not(None)).count()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
    assert page.console_problems == []  # no CSP violation, no script error

    page.goto("/analytics?days=30")
    page.wait_for_selector("body[data-charts-ready='4']")
    assert "Abandoned cart" in page.inner_text("#revenue")
    page.screenshot(path=str(SCREENSHOTS / "analytics.png"), full_page=True)
    assert page.console_problems == []


def test_the_canvas_shows_the_reports_figures_on_its_steps(app, page):
    clock.set_source(lambda: NOW)
    journey_id = _history(app)
    make_user(app, "mia@example.com", "marketer")
    page.set_viewport_size({"width": 1360, "height": 900})
    _sign_in(page, "mia@example.com")
    with app.app_context():
        from app.services.analytics.report import journey_report

        report = journey_report(db.session, db.session.get(Journey, journey_id), NOW)
    page.goto(f"/journeys/{journey_id}")
    page.wait_for_selector("#editor[data-ready=true]")
    for node_id in ("remind_a", "remind_b"):
        send = report["nodes"][node_id]["send"]
        card = page.locator(f".drawflow-node[data-node='{node_id}'] .jr-card-stats")
        expect(card.locator("[data-stat=opened]")).to_have_text(
            f"{send['opened']} opened ({send['rates']['open'] * 100:.1f}%)", timeout=15_000)
        expect(card.locator("[data-stat=clicked]")).to_have_text(
            f"{send['clicked']} clicked ({send['rates']['click'] * 100:.1f}%)")
        expect(card.locator("[data-stat=conversions]")).to_have_text(
            f"{send['conversions']} orders · {send['revenue']} EUR")
    split = page.locator(".drawflow-node[data-node='subject'] .jr-card-stats [data-stat=ab]")
    expect(split).to_contain_text("collecting")
    page.screenshot(path=str(SCREENSHOTS / "canvas-analytics.png"))
    page.click("a.report-link")
    page.wait_for_url(f"**/journeys/{journey_id}/report")
    assert [p for p in page.console_problems if "net::ERR_" not in p] == []
