"""What the core may know about a contact, loaded from the database."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Contact, Message, Suppression, email_digest
from journeys.state import ContactFacts
from journeys.timing import isoformat

#: How far back send history is read for frequency caps (a cap "per" longer is unusual).
SEND_HISTORY = timedelta(days=31)
#: At most this many recent marketing sends are read: a cap above it makes no sense.
SEND_HISTORY_ROWS = 100
#: Message states that count as "sent" for a frequency cap (queued ones too: they will go).
COUNTED = ("queued", "sending", "sent", "ambiguous")


def metrics_of(contact: Contact) -> dict[str, Any]:
    total = contact.total_spent
    return {"orders_count": contact.orders_count or 0,
            "total_spent": float(total) if isinstance(total, Decimal) else float(total or 0),
            "last_order_at": isoformat(contact.last_order_at) if contact.last_order_at else None}


def is_suppressed(db: Session, email: str) -> bool:
    return db.scalar(select(Suppression.id).where(Suppression.email_hash == email_digest(email))) is not None


def facts_for(db: Session, contact: Contact, now: datetime) -> ContactFacts:
    sends = tuple(db.scalars(
        select(Message.created_at)
        .where(Message.contact_id == contact.id, Message.category == "marketing",
               Message.status.in_(COUNTED), Message.created_at >= now - SEND_HISTORY)
        .order_by(Message.created_at.desc()).limit(SEND_HISTORY_ROWS)))
    return ContactFacts(
        key=str(contact.id), email=contact.email, timezone=contact.timezone, locale=contact.locale,
        tags=frozenset(contact.tags or ()), attributes=dict(contact.attributes or {}),
        metrics=metrics_of(contact), consent={"marketing": contact.subscription_status.value},
        suppressed=is_suppressed(db, contact.email), marketing_sends=sends)
