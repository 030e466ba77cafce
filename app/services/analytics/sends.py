"""What each send node of a journey did, per variant: sent, delivered, bounced, opened, clicked,
unsubscribed, complained, and the orders credited to it.

Every count is of messages (one per contact per visit of the node), so the per-variant rows
of a node add up to the node's row exactly. "Unique" counts messages with at least one such
action; "total" counts every hit. Only human actions make the rates; machine opens and clicks
(app/services/machine_traffic.py) are counted beside them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from app.models import BounceEvent, ConsentRecord, Engagement, Enrollment, Message, TrackingHit
from app.services.analytics.attribution import CreditRow
from app.services.analytics.sql import rate

Key = tuple[str, str | None]  # (node, variant)


@dataclass
class SendStats:
    sent: int = 0
    """Messages handed to the mail server (a hard bounce later still counts here)."""
    delivered: int = 0
    """Sent and not hard-bounced: we hear of failures only, so delivered is sent − hard bounces."""
    bounced: int = 0
    hard_bounced: int = 0
    complained: int = 0
    unsubscribed: int = 0
    """Unsubscribes through this message's own link (one-click or the page)."""
    opened: int = 0
    """Unique human opens: messages a person opened at least once."""
    opened_any: int = 0
    """Unique opens, machines included (Apple's proxy opens every message it receives)."""
    opens_total: int = 0
    opens_machine: int = 0
    clicked: int = 0
    """Unique human clickers: messages with at least one human click."""
    clicked_links: int = 0
    """Unique human clicks per message and link."""
    clicks_total: int = 0
    clicks_machine: int = 0
    conversions: int = 0
    """Orders credited to these messages (last touch)."""
    converted: int = 0
    """Messages with at least one credited order."""
    revenue: Decimal = field(default_factory=Decimal)

    def add(self, other: SendStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def rates(self) -> dict[str, float | None]:
        return {"delivery": rate(self.delivered, self.sent), "bounce": rate(self.bounced, self.sent),
                "open": rate(self.opened, self.delivered), "click": rate(self.clicked, self.delivered),
                "click_to_open": rate(self.clicked, self.opened),
                "unsubscribe": rate(self.unsubscribed, self.delivered),
                "complaint": rate(self.complained, self.delivered),
                "conversion": rate(self.converted, self.delivered),
                "revenue_per_recipient": rate(self.revenue, self.delivered)}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["revenue"] = str(self.revenue.quantize(Decimal("0.01")))
        out["rates"] = self.rates
        return out


def send_stats(db: Session, journey_id: int, credits: Iterable[CreditRow]) -> dict[Key, SendStats]:
    """Per (send node, variant) of the journey's messages."""
    mine = Enrollment.journey_id == journey_id
    stats: dict[Key, SendStats] = {}

    def at(node: str | None, variant: str | None) -> SendStats:
        return stats.setdefault((node or "-", variant), SendStats())

    journey_messages = (select(Message.id, Message.node, Message.variant)
                        .join(Enrollment, Enrollment.id == Message.enrollment_id).where(mine).subquery())
    m = journey_messages.c
    for node, variant, sent in db.execute(
            select(Message.node, Message.variant, func.count(Message.sent_at))
            .join(Enrollment, Enrollment.id == Message.enrollment_id).where(mine)
            .group_by(Message.node, Message.variant)):
        at(node, variant).sent = sent
    for node, variant, kind, n in db.execute(
            select(m.node, m.variant, BounceEvent.kind, func.count(distinct(BounceEvent.message_id)))
            .join(BounceEvent, BounceEvent.message_id == m.id).group_by(m.node, m.variant, BounceEvent.kind)):
        row = at(node, variant)
        if kind == "complaint":
            row.complained = n
        elif kind == "hard":
            row.hard_bounced = n
    for node, variant, n in db.execute(
            select(m.node, m.variant, func.count(distinct(BounceEvent.message_id)))
            .join(BounceEvent, BounceEvent.message_id == m.id).where(BounceEvent.kind != "complaint")
            .group_by(m.node, m.variant)):
        at(node, variant).bounced = n
    _unsubscribes(db, mine, at)
    _engagement(db, journey_messages, at)
    by_message = {mid: (node, variant) for mid, node, variant in db.execute(select(m.id, m.node, m.variant))}
    converted: set[int] = set()
    for credit in credits:
        where = by_message.get(credit.message_id)
        if where is None:
            continue  # credited to another journey's email
        row = at(*where)
        row.conversions += 1
        row.revenue += credit.total
        converted.add(credit.message_id)
    for message_id in converted:
        at(*by_message[message_id]).converted += 1
    for row in stats.values():
        row.delivered = max(row.sent - row.hard_bounced, 0)
    return stats


def _unsubscribes(db: Session, mine: Any, at: Any) -> None:
    # The unsubscribe link's token names the message (consent record details.message = its key).
    via = ConsentRecord.details["message"].as_string()
    rows = db.execute(
        select(Message.node, Message.variant, func.count(distinct(Message.id)))
        .join(Enrollment, Enrollment.id == Message.enrollment_id)
        .join(ConsentRecord, via == Message.key)
        .where(mine, ConsentRecord.source == "link", ConsentRecord.status == "unsubscribed")
        .group_by(Message.node, Message.variant))
    for node, variant, n in rows:
        at(node, variant).unsubscribed = n


def _engagement(db: Session, messages: Any, at: Any) -> None:
    m = messages.c
    human = Engagement.human_at.is_not(None)
    for node, variant, kind, any_n, human_n, links in db.execute(
            select(m.node, m.variant, Engagement.kind, func.count(distinct(Engagement.message_id)),
                   func.count(distinct(case((human, Engagement.message_id)))),
                   func.sum(case((human, 1), else_=0)))
            .join(Engagement, Engagement.message_id == m.id).group_by(m.node, m.variant, Engagement.kind)):
        row = at(node, variant)
        if kind == "open":
            row.opened_any, row.opened = any_n, human_n
        else:
            row.clicked, row.clicked_links = human_n, int(links or 0)
    for node, variant, kind, total, machine in db.execute(
            select(m.node, m.variant, TrackingHit.kind, func.count(),
                   func.sum(case((TrackingHit.machine.is_not(None), 1), else_=0)))
            .join(TrackingHit, TrackingHit.message_id == m.id).group_by(m.node, m.variant, TrackingHit.kind)):
        row = at(node, variant)
        if kind == "open":
            row.opens_total, row.opens_machine = total, int(machine or 0)
        else:
            row.clicks_total, row.clicks_machine = total, int(machine or 0)


def by_node(stats: dict[Key, SendStats]) -> dict[str, SendStats]:
    """The per-variant rows of each node added up."""
    out: dict[str, SendStats] = {}
    for (node, _), row in stats.items():
        out.setdefault(node, SendStats()).add(row)
    return out
