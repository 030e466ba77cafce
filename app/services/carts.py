"""Cart abandonment, with the database as the timer.

A checkout event opens (or, when updated, restarts) a pending cart due `cart_window_seconds`
later. An order from the same contact, or the checkout completing, cancels it. A scheduler
tick stores `cart_abandoned` for every cart still open when it falls due, once per checkout,
through the same ingest path as any event; an order after that cancels nothing already sent
(journeys leave on their exit events instead).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app.models import CartState, Contact, PendingCart, Source
from app.services import events
from app.services.event_input import EventIn, parse
from journeys.timing import parse_timestamp

#: Due carts one pass handles (one transaction).
BATCH = 200
#: The event a due cart becomes.
ABANDONED = "cart_abandoned"


def note_open(db: Session, source: Source, token: str, event: EventIn, now: datetime) -> None:
    """A checkout event for `token`: open its cart, or restart the wait of an open one (no commit)."""
    row = db.scalar(select(PendingCart).where(PendingCart.source_id == source.id,
                                              PendingCart.checkout_token == token))
    due = now + timedelta(seconds=source.cart_window_seconds)
    payload = {"contact": event.contact.model_dump(exclude_none=True), "properties": event.properties}
    if row is None:
        started = _moment(event.occurred_at) or now
        db.add(PendingCart(source_id=source.id, checkout_token=token, contact_email=event.contact.email,
                           contact_external_id=event.contact.external_id, started_at=started, due_at=due,
                           payload=payload, state=CartState.open.value, updated_at=now))
    elif row.state == CartState.open.value:
        row.due_at, row.payload, row.updated_at = due, payload, now
        row.contact_email = event.contact.email or row.contact_email
        row.contact_external_id = event.contact.external_id or row.contact_external_id
    db.flush()


def close(db: Session, source: Source, token: str, now: datetime) -> int:
    """The checkout ended (completed, or its order arrived): cancel its open cart (no commit)."""
    return _cancel(db, now, PendingCart.source_id == source.id, PendingCart.checkout_token == token)


def cancel_for_contact(db: Session, contact: dict[str, Any], now: datetime) -> int:
    """The contact ordered: cancel every open cart of theirs, from any source (no commit)."""
    matches = []
    if contact.get("email"):
        matches.append(PendingCart.contact_email == contact["email"])
    if contact.get("external_id"):
        matches.append(PendingCart.contact_external_id == contact["external_id"])
    return _cancel(db, now, or_(*matches)) if matches else 0


def _cancel(db: Session, now: datetime, *where: Any) -> int:
    result = db.execute(update(PendingCart).where(PendingCart.state == CartState.open.value, *where)
                        .values(state=CartState.cancelled.value, cancelled_at=now, updated_at=now))
    return result.rowcount or 0  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Pass:
    emitted: list[int]  # event ids stored
    cancelled: int      # due carts whose contact had ordered meanwhile
    handled: int        # carts this pass took


def emit_due(db: Session, now: datetime, *, limit: int = BATCH) -> Pass:
    """Store cart_abandoned for up to `limit` due carts (commits); carts ordered meanwhile are cancelled."""
    due = list(db.scalars(select(PendingCart).where(PendingCart.state == CartState.open.value,
                                                    PendingCart.due_at <= now)
                          .order_by(PendingCart.due_at, PendingCart.id).limit(limit)
                          .with_for_update(skip_locked=True)))
    if not due:
        db.rollback()
        return Pass([], 0, 0)
    sources = {s.id: s for s in db.scalars(select(Source).where(Source.id.in_({c.source_id for c in due})))}
    ordered = [c for c in due if _ordered_since(db, c)]
    for cart in ordered:
        cart.state, cart.cancelled_at, cart.updated_at = CartState.cancelled.value, now, now
    waiting = [c for c in due if c not in ordered]
    emitted: list[int] = []
    for source_id in sorted({c.source_id for c in waiting}):
        carts = [c for c in waiting if c.source_id == source_id]
        source = sources[source_id]
        items = [(_abandoned(c, now), f"{source.kind.value}:{source.slug}:{ABANDONED}:{c.checkout_token}")
                 for c in carts]
        # ingest_many commits (with the cancellations above); a repeat of a pass finds the keys stored.
        stored = events.ingest_many(db, items, source=source.label, now=now)
        for cart, result in zip(carts, stored):
            cart.state, cart.emitted_at, cart.updated_at, cart.event_id = \
                CartState.emitted.value, now, now, result.event_id
            emitted.append(result.event_id)
    db.commit()
    return Pass(emitted, len(ordered), len(due))


def _ordered_since(db: Session, cart: PendingCart) -> bool:
    """Whether the contact has an order (processed, from any source) since the checkout began."""
    found = None
    if cart.contact_external_id:
        found = db.scalar(select(Contact.last_order_at).where(Contact.external_id == cart.contact_external_id))
    if found is None and cart.contact_email:
        found = db.scalar(select(Contact.last_order_at).where(Contact.email == cart.contact_email))
    return found is not None and found >= cart.started_at


def _abandoned(cart: PendingCart, now: datetime) -> EventIn:
    # Who, not what: the checkout event already applied its attributes and consent, and replaying
    # that snapshot now could undo a change made since (an unsubscribe above all).
    contact = cart.payload.get("contact", {})
    who = {k: contact[k] for k in ("email", "external_id") if contact.get(k)}
    properties = {**cart.payload.get("properties", {}), "checkout_started_at": cart.started_at.isoformat()}
    return parse({"event": ABANDONED, "contact": who, "properties": properties, "occurred_at": now.isoformat()})


def _moment(value: str | None) -> datetime | None:
    return parse_timestamp(value) if value else None


def prune(db: Session, now: datetime, days: int) -> int:
    """Delete carts emitted or cancelled more than `days` ago (commits); returns how many."""
    cutoff = now - timedelta(days=days)
    result = db.execute(delete(PendingCart).where(PendingCart.state != CartState.open.value,
                                                  PendingCart.updated_at < cutoff))
    db.commit()
    return result.rowcount or 0  # type: ignore[attr-defined]
