"""Attribution on fixed fixtures: orders at known times after opens and clicks, against revenue
worked out by hand (last touch; 5 days after a click, 1 day after an open, both inclusive)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.db import db
from app.models import Enrollment, Event, Journey, Message, TrackingHit
from app.services import workspace
from app.services.analytics import attribution, dashboard
from app.services.analytics.report import journey_report
from tests.factories import contact, published_journey

T = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
H, D = timedelta(hours=1), timedelta(days=1)
GRAPH: dict[str, Any] = {
    "schema": 1, "settings": {"exit_events": []},
    "nodes": [{"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
              {"id": "n1", "type": "send", "config": {"template": "one"}},
              {"id": "n2", "type": "send", "config": {"template": "two"}},
              {"id": "end", "type": "exit"}],
    "edges": [{"from": "start", "to": "n1"}, {"from": "n1", "to": "n2"}, {"from": "n2", "to": "end"}]}


class Shop:
    def __init__(self, s: Session) -> None:
        self.s = s
        self.version = published_journey(s, GRAPH, name="Welcome")
        self.other = published_journey(s, GRAPH, name="Other")
        self.count = 0

    def person(self, name: str) -> Any:
        return contact(self.s, f"{name}@example.com")

    def message(self, who: Any, node: str, *, version: Any = None) -> Message:
        version = version or self.version
        self.count += 1
        enrollment = Enrollment(journey_id=version.journey_id, version_id=version.id, contact_id=who.id,
                                status="completed", node="end", state={}, step=3, entered_at=T, updated_at=T)
        self.s.add(enrollment)
        self.s.flush()
        row = Message(key=f"fixture:{self.count}", contact_id=who.id, enrollment_id=enrollment.id, node=node,
                      category="marketing", status="sent", attempts=1, to_email=who.email, subject="s",
                      created_at=T, updated_at=T, sent_at=T)
        self.s.add(row)
        self.s.flush()
        return row

    def touch(self, message: Message, kind: str, when: datetime, machine: str | None = None) -> None:
        self.s.add(TrackingHit(message_id=message.id, kind=kind, position=1 if kind == "click" else None, at=when,
                               machine=machine))

    def order(self, who: Any, when: datetime, total: str | float) -> None:
        self.s.add(Event(name="order_placed", contact_id=who.id, properties={"total": total}, occurred_at=when,
                         received_at=when, source="test", processed_at=when))
        self.s.flush()


def _fixtures(s: Session) -> Shop:
    shop = Shop(s)
    a, b, c, d, e, f = (shop.person(n) for n in "abcdef")
    # A: opened n1; an order 19 h later is credited, one 29 h after the open is not (no click).
    a1 = shop.message(a, "n1")
    shop.touch(a1, "open", T + H)
    shop.order(a, T + 20 * H, "100.00")
    shop.order(a, T + 30 * H, "50")
    # B: clicked n1, later opened n2: the order 2 h after the open goes to n2 (last touch); the
    # next, when the open's day is over, goes back to n1's click (4 d 4 h before, within 5 days).
    b1, b2 = shop.message(b, "n1"), shop.message(b, "n2")
    shop.touch(b1, "click", T + 2 * H)
    shop.touch(b2, "open", T + 3 * D)
    shop.order(b, T + 3 * D + 2 * H, 80.5)
    shop.order(b, T + 4 * D + 6 * H, "19.99")
    # C: clicked n1; an order exactly 5 days later counts (inclusive), one a second later would not.
    c1 = shop.message(c, "n1")
    shop.touch(c1, "click", T + H)
    shop.order(c, T + H + 5 * D, "10.00")
    shop.order(c, T + H + 5 * D + timedelta(seconds=1), "999")
    # D: only a link scanner clicked: nothing is credited.
    d1 = shop.message(d, "n1")
    shop.touch(d1, "click", T + H, machine="scanner")
    shop.order(d, T + 2 * H, "500")
    # E: opened this journey's n1, then clicked another journey's email: that one gets the order.
    e1, e_other = shop.message(e, "n1"), shop.message(e, "n1", version=shop.other)
    shop.touch(e1, "open", T + H / 2)
    shop.touch(e_other, "click", T + H)
    shop.order(e, T + 2 * H, "7.00")
    # F: an open of n1 and a click of n2 at the same instant: the click wins.
    f1, f2 = shop.message(f, "n1"), shop.message(f, "n2")
    shop.touch(f1, "open", T + H)
    shop.touch(f2, "click", T + H)
    shop.order(f, T + 2 * H, "42.42")
    # An order before any touch is nobody's.
    shop.order(a, T - D, "1000")
    s.flush()
    return shop


def test_revenue_per_send_matches_the_hand_computed_credits(app):
    with app.app_context():
        with db.transaction() as s:
            shop = _fixtures(s)
        report = journey_report(db.session, db.session.get(Journey, shop.version.journey_id), NOW)
        n1, n2 = report["nodes"]["n1"]["send"], report["nodes"]["n2"]["send"]
        assert (n1["conversions"], n1["revenue"], n1["converted"]) == (3, "129.99", 3)  # 100 + 19.99 + 10
        assert (n2["conversions"], n2["revenue"], n2["converted"]) == (2, "122.92", 2)  # 80.50 + 42.42
        assert report["emails"]["revenue"] == "252.91"
        assert sum(Decimal(str(v)) for v in report["timeline"]["series"]["revenue"]) == Decimal("252.91")
        credits = attribution.credits(db.session, workspace.current(db.session))
        assert sorted(str(c.total) for c in credits) == ["10.00", "100.00", "19.99", "42.42", "7.00", "80.5"]
        rows = {row[1]: row for row in dashboard.table(db.session, "revenue", NOW, 30).rows}
        assert rows["Welcome"][3:] == (5, "252.91") and rows["Other"][3:] == (1, "7.00")


def test_the_windows_are_the_workspaces(app):
    with app.app_context():
        with db.transaction() as s:
            shop = _fixtures(s)
            workspace.update(s, {"attribution_open_days": 0, "attribution_click_days": 4}, actor="test", now=NOW)
        report = journey_report(db.session, db.session.get(Journey, shop.version.journey_id), NOW)
        # No open earns credit; clicks count for 4 days: B's second order (4 d 4 h) and C's are out,
        # B's first goes to n1's click (3 d before), F's to n2's click.
        assert report["nodes"]["n1"]["send"]["revenue"] == "80.50"
        assert report["nodes"]["n2"]["send"]["revenue"] == "42.42"
        assert report["attribution"] == {"model": "last touch", "click_days": 4, "open_days": 0}
