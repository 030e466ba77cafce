"""Orders credited to emails: the touches (human opens and clicks) and orders of the contacts in
question, run through the core's last-touch attribution (journeys/attribution.py).

An order is credited to one message at most, across every journey: the per-journey revenue
of the dashboard adds up to the revenue credited to email as a whole, never more.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Enrollment, Event, Message, TrackingHit
from app.services.analytics.sql import money
from app.services.workspace import Workspace
from journeys.attribution import Order, Touch, Windows, attribute
from journeys.metrics import ORDER_EVENTS


@dataclass(frozen=True)
class CreditRow:
    order_id: int
    contact_id: int
    ordered_at: datetime
    total: Decimal
    message_id: int
    touch: str  # open | click
    touched_at: datetime


def windows(ws: Workspace) -> Windows:
    return Windows(click=timedelta(days=ws.attribution_click_days), open=timedelta(days=ws.attribution_open_days))


def credits(db: Session, ws: Workspace, *, journey_id: int | None = None) -> list[CreditRow]:
    """Every credited order of the contacts of `journey_id` (of everybody when None).

    The contacts' touches in every journey take part, so an order a later email of another
    journey led to is not credited here."""
    hits = (select(Message.contact_id, TrackingHit.message_id, TrackingHit.kind, TrackingHit.at)
            .join(Message, Message.id == TrackingHit.message_id).where(TrackingHit.machine.is_(None)))
    orders = select(Event.id, Event.contact_id, Event.occurred_at, Event.properties).where(
        Event.name.in_(sorted(ORDER_EVENTS)), Event.contact_id.is_not(None), Event.error.is_(None))
    if journey_id is not None:
        contacts = select(Enrollment.contact_id).where(Enrollment.journey_id == journey_id).distinct()
        hits = hits.where(Message.contact_id.in_(contacts))
        orders = orders.where(Event.contact_id.in_(contacts))
    touches: dict[int, list[Touch]] = defaultdict(list)
    for contact_id, message_id, kind, at in db.execute(hits):
        touches[contact_id].append(Touch(at, message_id, kind))
    if not touches:
        return []
    earliest = min(t.at for found in touches.values() for t in found)
    placed: dict[int, list[Order]] = defaultdict(list)
    for order_id, contact_id, at, properties in db.execute(orders.where(Event.occurred_at >= earliest)):
        if contact_id in touches:
            placed[contact_id].append(Order(at, money((properties or {}).get("total")), order_id))
    rule = windows(ws)
    out = []
    for contact_id, contact_orders in placed.items():
        for credit in attribute(touches[contact_id], contact_orders, rule):
            out.append(CreditRow(credit.order.key, contact_id, credit.order.at, credit.order.total,
                                 credit.message, credit.touch.kind, credit.touch.at))
    return sorted(out, key=lambda c: (c.ordered_at, c.order_id))
