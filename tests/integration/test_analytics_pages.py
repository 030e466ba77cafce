"""The analytics pages: the dashboard's tables and their CSVs, the attribution settings, a
journey's report before anything happened, the split's auto-winner form."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app import clock
from app.db import db
from app.models import AuditEntry, BounceEvent, ConsentRecord, Enrollment, Message, SubscriptionStatus
from app.services import workspace
from app.services.analytics import dashboard
from tests.conftest import page_csrf
from tests.editor_support import make_journey, post, result_of
from tests.factories import contact, published_journey

NOW = datetime(2026, 12, 10, 15, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def _history(app) -> None:  # type: ignore[no-untyped-def]
    """Three contacts subscribe on days 1–3, one unsubscribes on day 5; sends, bounces."""
    clock.set_source(lambda: NOW)
    with app.app_context():
        with db.transaction() as s:
            people = [contact(s, f"d{i}@example.com") for i in range(4)]
            people[3].subscription_status = SubscriptionStatus.never_subscribed
            for i, who in enumerate(people[:3]):
                s.add(ConsentRecord(contact_id=who.id, category="marketing", status="subscribed", source="form",
                                    at=NOW - (9 - i) * DAY))
            people[0].subscription_status = SubscriptionStatus.unsubscribed
            s.add(ConsentRecord(contact_id=people[0].id, category="marketing", status="unsubscribed", source="link",
                                at=NOW - 5 * DAY))
            version = published_journey(s, name="=HYPERLINK(\"http://x\")")
            enrollment = Enrollment(journey_id=version.journey_id, version_id=version.id, contact_id=people[1].id,
                                    status="completed", node="end", state={}, step=2, entered_at=NOW - 2 * DAY,
                                    updated_at=NOW)
            s.add(enrollment)
            s.flush()
            for i, who in enumerate(people):
                s.add(Message(key=f"d:{i}", contact_id=who.id, node="m", category="marketing" if i else "transactional",
                              enrollment_id=enrollment.id if i == 1 else None,
                              status="sent", attempts=1, to_email=who.email, subject="s", created_at=NOW - 2 * DAY,
                              updated_at=NOW, sent_at=NOW - 2 * DAY))
            s.add(BounceEvent(email_hash="x" * 64, kind="hard", provider="dsn", received_at=NOW - DAY))
            s.add(BounceEvent(email_hash="y" * 64, kind="complaint", provider="dsn", received_at=NOW - DAY))


def test_the_dashboard_tables_count_what_happened(app):
    _history(app)
    with app.app_context():
        days = dashboard.days_of(NOW, 30)
        subscribers = {row[0]: row for row in dashboard.subscribers(db.session, days).rows}
        day = lambda n: (NOW - n * DAY).date().isoformat()  # noqa: E731
        assert subscribers[day(10)][1:] == (0, 0, 0)
        assert subscribers[day(9)][1:] == (1, 1, 0) and subscribers[day(7)][1:] == (3, 1, 0)
        assert subscribers[day(5)][1:] == (2, 0, 1) and subscribers[day(0)][1] == 2
        unsubscribes = {row[0]: row for row in dashboard.unsubscribes(db.session, days).rows}
        assert unsubscribes[day(5)][1:3] == (1, 1)
        sends = {row[0]: row for row in dashboard.sends(db.session, days).rows}
        assert sends[day(2)][1:] == (4, 3, 1)
        bounces = {row[0]: row for row in dashboard.bounces(db.session, days).rows}
        assert bounces[day(1)][1:] == (1, 0, 1)


def test_the_dashboard_page_and_each_csv(app, login):
    _history(app)
    client = login("viewer")
    page = client.get("/analytics?days=30")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = json.loads(html.split('id="dashboard-data">', 1)[1].split("</script>", 1)[0])
    assert set(data) == set(dashboard.TABLES) and len(data["sends"]["rows"]) == 30
    assert "<script>" not in html and 'name="attribution_click_days"' not in html  # admins only
    for name in dashboard.TABLES:
        answer = client.get(f"/analytics/{name}.csv?days=30")
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        assert f'filename="{name}-30d.csv"' in answer.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
        with app.app_context():
            expected = dashboard.table(db.session, name, NOW, 30)
        assert tuple(rows[0]) == expected.header and len(rows) == len(expected.rows) + 1
    revenue = list(csv.reader(io.StringIO(client.get("/analytics/revenue.csv").get_data(as_text=True))))
    assert revenue[1][1].startswith("'=HYPERLINK")  # a spreadsheet must not run a journey's name
    assert client.get("/analytics/users.csv").status_code == 404
    assert client.get("/analytics?days=7").status_code == 200  # an unknown period falls back to 90


def test_admins_change_the_attribution_windows_and_bad_values_change_nothing(app, login):
    client = login("admin")
    form = {"csrf_token": page_csrf(client, "/analytics"), "attribution_click_days": "3", "attribution_open_days": "0",
            "lift_window_days": "14", "currency": "pln"}
    assert client.post("/analytics/settings", data=form).status_code == 302
    with app.app_context():
        ws = workspace.current(db.session)
        assert (ws.attribution_click_days, ws.attribution_open_days, ws.lift_window_days, ws.currency) == (3, 0, 14, "PLN")
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.update")) is not None
    for bad, field in ((dict(form, attribution_click_days="0"), "attribution_click_days"),
                       (dict(form, attribution_open_days="lots"), "attribution_open_days"),
                       (dict(form, currency="euro"), "currency")):
        answer = client.post("/analytics/settings", data=bad)
        assert answer.status_code == 422 and f'name="{field}"' in answer.get_data(as_text=True)
        assert 'aria-invalid="true"' in answer.get_data(as_text=True)
    with app.app_context():
        assert workspace.current(db.session).attribution_click_days == 3
    assert client.post("/analytics/settings", data={k: v for k, v in form.items() if k != "csrf_token"}).status_code == 400


def test_a_report_before_anything_happened(app, login):
    with app.app_context():
        with db.transaction() as s:
            journey_id = published_journey(s).journey_id
    client = login("viewer")
    page = client.get(f"/journeys/{journey_id}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "No email has been sent yet." in html and 'id="report-data"' in html
    assert client.get("/journeys/999999/report").status_code == 404


def test_the_split_form_sets_the_auto_winner_rule(app, login):
    client = login("marketer")
    journey_id = make_journey(app)
    base = {"_node": "ab", "_type": "ab_split", "variants.0.key": "A", "variants.0.weight:number": "50",
            "variants.1.key": "B", "variants.1.weight:number": "50"}
    answer = post(client, f"/journeys/{journey_id}/node-form", data={
        **base, "auto_winner:optional": ["0", "1"], "auto_winner.metric": "conversion",
        "auto_winner.min_recipients:int": "200", "auto_winner.probability:number": "0.95"})
    config = result_of(answer.get_data(as_text=True))["config"]
    assert config["auto_winner"] == {"metric": "conversion", "min_recipients": 200, "probability": 0.95}
    off = post(client, f"/journeys/{journey_id}/node-form", data={**base, "auto_winner:optional": "0",
                                                                    "auto_winner.min_recipients:int": "500"})
    assert "auto_winner" not in result_of(off.get_data(as_text=True))["config"]
    # Out of bounds: the form keeps what was typed, and the journey's check names the step
    # (tests/unit/test_analytics_core.py) so it cannot be published.
    bad = post(client, f"/journeys/{journey_id}/node-form", data={
        **base, "auto_winner:optional": ["0", "1"], "auto_winner.probability:number": "1.5"})
    assert result_of(bad.get_data(as_text=True))["config"]["auto_winner"] == {"probability": 1.5}


def test_the_report_of_a_draft_with_an_unfinished_split(app, login):
    graph = {"schema": 1, "settings": {}, "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
        {"id": "ab", "type": "ab_split", "config": {"variants": [{"key": "A", "weight": 70}]}}], "edges": ["x"]}
    journey_id = make_journey(app, graph)
    page = login("viewer").get(f"/journeys/{journey_id}/report")
    assert page.status_code == 200 and "A/B tests" not in page.get_data(as_text=True)
