"""What the core may know about a contact, loaded from the database."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

from sqlalchemy import Float, Row, String, select, type_coerce
from sqlalchemy.orm import Session

from app.models import Contact, Message, SubscriptionStatus, Suppression, email_digest
from app.services.bulk import JSONRead, among
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
_KEYS = attrgetter(*(c.key for c in COLUMNS))
_PLAIN = {Contact.tags.key: JSONRead(), Contact.attributes.key: JSONRead(),
          Contact.subscription_status.key: String(), Contact.total_spent.key: Float()}
#: COLUMNS as a batch reads them: JSON parsed in one call, the status as its text, the total as it is
#: stored. Type processing cost a wake-up as much per contact as making its facts.
BATCH_COLUMNS = tuple(type_coerce(Contact.__table__.c[c.key], _PLAIN[c.key]).label(c.key) if c.key in _PLAIN
                      else Contact.__table__.c[c.key] for c in COLUMNS)


#: A status as the ORM reads it (the enum) or as a batch does (its text): both are keys, since the
#: enum's members are strings equal to their values.
_CONSENT = {member: member.value for member in SubscriptionStatus}


def metrics_of(contact: Any) -> dict[str, Any]:
    return metrics(contact.orders_count, contact.total_spent, contact.last_order_at)


def metrics(orders_count: int | None, total_spent: Decimal | float | None,
            last_order_at: datetime | None) -> dict[str, Any]:
    return {"orders_count": orders_count or 0, "total_spent": float(total_spent) if total_spent else 0.0,
            "last_order_at": isoformat(last_order_at) if last_order_at else None}


def is_suppressed(db: Session, email: str) -> bool:
    return db.scalar(select(Suppression.id).where(Suppression.email_hash == email_digest(email))) is not None


def facts_for(db: Session, contact: Contact, now: datetime) -> ContactFacts:
    return facts_for_many(db, [contact], now)[contact.id]


def facts_for_many(db: Session, contacts: Sequence[Any], now: datetime) -> dict[int, ContactFacts]:
    """Facts for a batch of contacts (Contact objects or rows of COLUMNS), two queries in all."""
    if not contacts:
        return {}
    # Plain tuples in COLUMNS order: a Row's attribute access costs more than the rest of a
    # contact's facts together, and a wake-up makes facts for every contact it moves.
    values = [tuple(c) if isinstance(c, Row) else _KEYS(c) for c in contacts]
    digests = {email_digest(c[1]): c[0] for c in values}
    suppressed = {digests[h] for h in db.scalars(
        select(Suppression.email_hash).where(among(db, Suppression.email_hash, digests)))}
    sends: dict[int, list[datetime]] = {}
    for contact_id, created in db.execute(
            select(Message.contact_id, Message.created_at)
            .where(among(db, Message.contact_id, [c[0] for c in values]), Message.category == "marketing",
                   Message.status.in_(COUNTED), Message.created_at >= now - SEND_HISTORY)
            .order_by(Message.created_at.desc())):
        if len(sends.setdefault(contact_id, [])) < SEND_HISTORY_ROWS:
            sends[contact_id].append(created)
    facts = {}
    for ident, email, tz, locale, tags, attributes, status, orders, spent, last_order, erased in values:
        # Positional (key, email, timezone, locale, tags, attributes, metrics, consent, suppressed,
        # marketing_sends): made for every contact a batch moves. An erased contact gets nothing.
        facts[ident] = ContactFacts(
            str(ident), email, tz, locale, frozenset(tags or ()), dict(attributes or {}),
            metrics(orders, spent, last_order), {"marketing": _CONSENT[status]},
            ident in suppressed or erased is not None, tuple(sends.get(ident, ())))
    return facts
