"""What the core may know about a contact, loaded from the database."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Contact, Message, Suppression, email_digest
from app.services.bulk import among
from journeys.state import ContactFacts
from journeys.timing import isoformat

#: How far back send history is read for frequency caps (a cap "per" longer is unusual).
SEND_HISTORY = timedelta(days=31)
#: At most this many recent marketing sends are read: a cap above it makes no sense.
SEND_HISTORY_ROWS = 100
#: Message states that count as "sent" for a frequency cap (queued ones too: they will go).
COUNTED = ("queued", "sending", "sent", "ambiguous")


#: The contact columns facts are made of: a batch reads just these, no ORM objects.
COLUMNS = (Contact.id, Contact.email, Contact.timezone, Contact.locale, Contact.tags, Contact.attributes,
           Contact.subscription_status, Contact.orders_count, Contact.total_spent, Contact.last_order_at,
           Contact.erased_at)


def metrics_of(contact: Any) -> dict[str, Any]:
    total = contact.total_spent
    return {"orders_count": contact.orders_count or 0,
            "total_spent": float(total) if isinstance(total, Decimal) else float(total or 0),
            "last_order_at": isoformat(contact.last_order_at) if contact.last_order_at else None}


def is_suppressed(db: Session, email: str) -> bool:
    return db.scalar(select(Suppression.id).where(Suppression.email_hash == email_digest(email))) is not None


def facts_for(db: Session, contact: Contact, now: datetime) -> ContactFacts:
    return facts_for_many(db, [contact], now)[contact.id]


def facts_for_many(db: Session, contacts: Sequence[Any], now: datetime) -> dict[int, ContactFacts]:
    """Facts for a batch of contacts (Contact objects or rows of COLUMNS), two queries in all."""
    if not contacts:
        return {}
    ids = [c.id for c in contacts]
    digests = {email_digest(c.email): c.id for c in contacts}
    suppressed = {digests[h] for h in db.scalars(
        select(Suppression.email_hash).where(among(db, Suppression.email_hash, digests)))}
    sends: dict[int, list[datetime]] = {}
    for contact_id, created in db.execute(
            select(Message.contact_id, Message.created_at)
            .where(among(db, Message.contact_id, ids), Message.category == "marketing",
                   Message.status.in_(COUNTED), Message.created_at >= now - SEND_HISTORY)
            .order_by(Message.created_at.desc())):
        if len(sends.setdefault(contact_id, [])) < SEND_HISTORY_ROWS:
            sends[contact_id].append(created)
    return {c.id: ContactFacts(
        key=str(c.id), email=c.email, timezone=c.timezone, locale=c.locale,
        tags=frozenset(c.tags or ()), attributes=dict(c.attributes or {}), metrics=metrics_of(c),
        consent={"marketing": c.subscription_status.value},
        suppressed=c.id in suppressed or c.erased_at is not None,  # an erased contact gets nothing
        marketing_sends=tuple(sends.get(c.id, ()))) for c in contacts}
