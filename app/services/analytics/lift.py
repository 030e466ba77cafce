"""Incremental lift: what a journey with a holdout really caused.

The holdout group (settings.holdout_percent, a deterministic share of the contacts) enters
the journey and is tracked, but is never mailed. Comparing the orders of the mailed group with
the holdout's, over the same window after entering (workspace lift_window_days, default 7),
measures what the emails caused; last-touch attribution over-counts, since many of those
customers would have bought anyway. Groups are by assignment (intent to treat): a mailed
contact whose email was skipped (no consent, a cap) still counts as mailed.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Enrollment, Event
from app.services.analytics.sql import money
from app.services.workspace import Workspace
from journeys.metrics import ORDER_EVENTS
from journeys.stats import Interval, Rate, difference_of_means, difference_of_proportions, scaled, summarize

LEVEL = 0.95


@dataclass(frozen=True)
class Group:
    contacts: int
    converted: int
    revenue: Decimal

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.contacts if self.contacts else None

    @property
    def revenue_per_contact(self) -> float | None:
        return float(self.revenue) / self.contacts if self.contacts else None


@dataclass(frozen=True)
class Lift:
    window_days: int
    mailed: Group
    holdout: Group
    conversion: Interval | None  # mailed − holdout, in conversion rate
    revenue_per_contact: Interval | None  # mailed − holdout, per contact
    revenue_total: Interval | None  # per contact × mailed contacts: what the journey caused
    currency: str

    @property
    def reading(self) -> str:
        """The result in plain words."""
        if self.revenue_total is None:
            return "Not enough data yet: both the mailed group and the holdout need contacts."
        r = self.revenue_total
        amount = f"about {_money(r.estimate)} {self.currency} ({int(r.level * 100)}% CI " \
                 f"{_money(r.low)} to {_money(r.high)} {self.currency})"
        text = f"The journey caused {amount} in orders within {self.window_days} days of entering, " \
               f"beyond what the holdout group bought."
        if r.low <= 0 <= r.high:
            text += " The interval includes zero: the effect is not distinguishable from no effect yet."
        return text


def _money(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def lift(db: Session, journey_id: int, ws: Workspace) -> Lift | None:
    """None when the journey has no holdout contacts at all."""
    rows = db.execute(select(Enrollment.id, Enrollment.contact_id, Enrollment.entered_at, Enrollment.holdout)
                      .where(Enrollment.journey_id == journey_id)).all()
    if not any(r.holdout for r in rows):
        return None
    window = timedelta(days=ws.lift_window_days)
    orders: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    contacts = select(Enrollment.contact_id).where(Enrollment.journey_id == journey_id).distinct()
    earliest = min(r.entered_at for r in rows)
    for contact_id, at, properties in db.execute(
            select(Event.contact_id, Event.occurred_at, Event.properties)
            .where(Event.name.in_(sorted(ORDER_EVENTS)), Event.contact_id.in_(contacts), Event.error.is_(None),
                   Event.occurred_at >= earliest)):
        orders[contact_id].append((at, money((properties or {}).get("total"))))
    outcomes: dict[bool, list[Outcome]] = {True: [], False: []}
    for row in rows:
        spent = [total for at, total in orders.get(row.contact_id, ()) if row.entered_at <= at <= row.entered_at + window]
        outcomes[bool(row.holdout)].append(Outcome(bool(spent), sum(spent, Decimal(0))))
    return compare(outcomes[False], outcomes[True], ws.lift_window_days, ws.currency)


@dataclass(frozen=True)
class Outcome:
    """One contact of a group: did it order within the window, and for how much."""

    converted: bool
    revenue: Decimal


def compare(mailed: list[Outcome], holdout: list[Outcome], window_days: int, currency: str) -> Lift:
    groups = [Group(len(g), sum(1 for o in g if o.converted), sum((o.revenue for o in g), Decimal(0)))
              for g in (mailed, holdout)]
    m, h = groups
    conversion = difference_of_proportions(Rate(h.converted, h.contacts), Rate(m.converted, m.contacts), LEVEL)
    per_contact = difference_of_means(summarize([float(o.revenue) for o in holdout]),
                                      summarize([float(o.revenue) for o in mailed]), LEVEL)
    total = scaled(per_contact, m.contacts) if per_contact is not None else None
    return Lift(window_days, m, h, conversion, per_contact, total, currency)


def as_dict(found: Lift | None) -> dict[str, Any] | None:
    if found is None:
        return None

    def interval(i: Interval | None) -> dict[str, float] | None:
        return None if i is None else {"estimate": i.estimate, "low": i.low, "high": i.high, "level": i.level}

    def group(g: Group) -> dict[str, Any]:
        return {"contacts": g.contacts, "converted": g.converted, "revenue": str(g.revenue.quantize(Decimal("0.01"))),
                "conversion_rate": g.conversion_rate, "revenue_per_contact": g.revenue_per_contact}

    return {"window_days": found.window_days, "mailed": group(found.mailed), "holdout": group(found.holdout),
            "conversion_lift": interval(found.conversion), "revenue_per_contact_lift": interval(found.revenue_per_contact),
            "revenue_caused": interval(found.revenue_total), "currency": found.currency, "reading": found.reading}
