"""The workspace dashboard: subscribers over time, unsubscribes, bounces, sends per day, and the
revenue credited per journey. Each table is a list of rows (a header, then values), shown as a
chart and a table and exported as CSV as it is.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import BounceEvent, ConsentRecord, Contact, Enrollment, Journey, Message, SubscriptionStatus
from app.services import workspace
from app.services.analytics import attribution
from app.services.analytics.sql import day

#: Periods the dashboard offers, in days.
PERIODS = (30, 90, 365)
TABLES = ("subscribers", "unsubscribes", "bounces", "sends", "revenue")


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    header: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""


def days_of(now: datetime, period: int) -> list[str]:
    today = now.date()
    return [(today - timedelta(days=period - 1 - i)).isoformat() for i in range(period)]


def subscribers(db: Session, days: list[str]) -> Table:
    """Contacts subscribed to marketing at the end of each day, with the day's gains and losses.

    Walked from the consent records (every change is one); the current count anchors the
    series, so contacts that predate their records count too."""
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    status: dict[int, str] = {}
    for contact_id, value, at in db.execute(select(ConsentRecord.contact_id, ConsentRecord.status, ConsentRecord.at)
                                            .where(ConsentRecord.category == "marketing")
                                            .order_by(ConsentRecord.contact_id, ConsentRecord.at, ConsentRecord.id)):
        before = status.get(contact_id)
        key = at.date().isoformat()
        if value == "subscribed" and before != "subscribed":
            gained[key] += 1
        elif value != "subscribed" and before == "subscribed":
            lost[key] += 1
        status[contact_id] = value
    now_subscribed = db.scalar(select(func.count()).select_from(Contact).where(
        Contact.subscription_status == SubscriptionStatus.subscribed)) or 0
    later = sum(gained[k] - lost[k] for k in set(gained) | set(lost) if k > days[-1])
    running = now_subscribed - later  # at the end of the last day shown
    ends: dict[str, int] = {}
    for key in reversed(days):
        ends[key] = running
        running -= gained[key] - lost[key]
    return Table("subscribers", "Subscribers", ("day", "subscribed", "gained", "lost"),
                 [(d, ends[d], gained[d], lost[d]) for d in days])


def unsubscribes(db: Session, days: list[str]) -> Table:
    stamp = day(db, ConsentRecord.at)
    found: dict[tuple[str, str], int] = {}
    for key, source, n in db.execute(select(stamp, ConsentRecord.source, func.count())
                                     .where(ConsentRecord.category == "marketing",
                                            ConsentRecord.status == "unsubscribed", stamp >= days[0])
                                     .group_by(stamp, ConsentRecord.source)):
        found[(key, source)] = n
    sources = ("link", "complaint", "bounce", "erasure")
    rows = []
    for d in days:
        counts = [found.get((d, s), 0) for s in sources]
        other = sum(n for (k, s), n in found.items() if k == d and s not in sources)
        rows.append((d, sum(counts) + other, *counts, other))
    return Table("unsubscribes", "Unsubscribes", ("day", "total", "email link", "complaint", "bounce", "erasure",
                                                 "other"), rows)


def bounces(db: Session, days: list[str]) -> Table:
    stamp = day(db, BounceEvent.received_at)
    found = {(k, kind): n for k, kind, n in db.execute(
        select(stamp, BounceEvent.kind, func.count()).where(stamp >= days[0]).group_by(stamp, BounceEvent.kind))}
    return Table("bounces", "Bounces and complaints", ("day", "hard", "soft", "complaint"),
                 [(d, found.get((d, "hard"), 0), found.get((d, "soft"), 0), found.get((d, "complaint"), 0))
                  for d in days])


def sends(db: Session, days: list[str]) -> Table:
    stamp = day(db, Message.sent_at)
    found = {(k, c): n for k, c, n in db.execute(
        select(stamp, Message.category, func.count()).where(Message.sent_at.is_not(None), stamp >= days[0])
        .group_by(stamp, Message.category))}
    rows = [(d, found.get((d, "marketing"), 0) + found.get((d, "transactional"), 0),
             found.get((d, "marketing"), 0), found.get((d, "transactional"), 0)) for d in days]
    return Table("sends", "Emails sent", ("day", "total", "marketing", "transactional"), rows)


def revenue(db: Session, days: list[str]) -> Table:
    """Orders placed in the period credited to each journey's emails (last touch)."""
    ws = workspace.current(db)
    first = date.fromisoformat(days[0])
    credits = [c for c in attribution.credits(db, ws) if c.ordered_at.date() >= first]
    journey_of = dict(db.execute(select(Message.id, Enrollment.journey_id)
                                 .join(Enrollment, Enrollment.id == Message.enrollment_id)
                                 .where(Message.id.in_({c.message_id for c in credits}))).all()) if credits else {}
    totals: dict[int | None, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for credit in credits:
        entry = totals[journey_of.get(credit.message_id)]
        entry[0] += 1
        entry[1] += credit.total
    sent = dict(db.execute(select(Enrollment.journey_id, func.count(Message.sent_at))
                           .join(Enrollment, Enrollment.id == Message.enrollment_id)
                           .where(Message.sent_at >= datetime.combine(first, datetime.min.time(), timezone.utc))
                           .group_by(Enrollment.journey_id)).all())
    names = dict(db.execute(select(Journey.id, Journey.name)).all())
    ids = sorted(set(names) & (set(totals) | set(sent)), key=lambda j: (-totals[j][1] if j in totals else 0, names[j]))
    rows = [(j, names[j], sent.get(j, 0), totals[j][0] if j in totals else 0,
             str((totals[j][1] if j in totals else Decimal(0)).quantize(Decimal("0.01")))) for j in ids]
    if None in totals:  # emails sent outside journeys (the API's)
        rows.append(("", "(no journey)", 0, totals[None][0], str(totals[None][1].quantize(Decimal("0.01")))))
    return Table("revenue", "Revenue credited per journey",
                 ("journey id", "journey", "emails sent", "orders credited", f"revenue ({ws.currency})"), rows,
                 note=f"Orders placed in the period, credited to the last email opened or clicked before them: "
                      f"within {ws.attribution_click_days} days of a click or {ws.attribution_open_days} of an open.")


BUILDERS = {"subscribers": subscribers, "unsubscribes": unsubscribes, "bounces": bounces, "sends": sends,
            "revenue": revenue}


def table(db: Session, name: str, now: datetime, period: int) -> Table:
    return BUILDERS[name](db, days_of(now, period))
