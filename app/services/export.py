"""Export (GDPR Art. 20): one JSON document with everything stored about a contact.

The same tables erasure cleans, read whole: the contact, consent records, suppression, events
with their payloads, enrollments with their trace, messages (and their opens and clicks),
webhook calls, pending carts, privacy requests and the audit entries about them. Recorded in
the audit log.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from app.models import (AuditEntry, BounceEvent, ConsentRecord, Contact, Enrollment, EnrollmentStep, Event,
                        Journey, Message, PendingCart, PrivacyRequest, Suppression, TrackingHit, WebhookCall,
                        email_digest)
from app.services import audit_log

#: The document's format; bumped when a field changes meaning.
FORMAT = 1


def export(db: Session, contact: Contact, *, actor: str, actor_id: int | None = None,
           now: datetime) -> dict[str, Any]:
    """The document (JSON-ready), and an audit entry saying who took it."""
    doc = document(db, contact, now)
    audit_log.write(db, actor=actor, actor_id=actor_id, action="contact.export", target=f"contact:{contact.id}",
                    now=now)
    db.flush()
    return doc


def document(db: Session, contact: Contact, now: datetime) -> dict[str, Any]:
    digest = email_digest(contact.email)
    enrollments = list(db.scalars(select(Enrollment).where(Enrollment.contact_id == contact.id)
                                  .order_by(Enrollment.id)))
    names = dict(db.execute(select(Journey.id, Journey.name).where(
        Journey.id.in_({e.journey_id for e in enrollments}))).all()) if enrollments else {}
    steps: dict[int, list[dict[str, Any]]] = {}
    if enrollments:
        for step in db.scalars(select(EnrollmentStep).where(
                EnrollmentStep.enrollment_id.in_([e.id for e in enrollments])).order_by(EnrollmentStep.id)):
            steps.setdefault(step.enrollment_id, []).append(_row(step, skip=("id", "enrollment_id")))
    who = [PendingCart.contact_email == contact.email]
    asked = [PrivacyRequest.customer_email == contact.email]
    if contact.external_id:
        who.append(PendingCart.contact_external_id == contact.external_id)
        asked.append(PrivacyRequest.customer_external_id == contact.external_id)
    suppression = db.scalar(select(Suppression).where(Suppression.email_hash == digest))
    return {
        "format": FORMAT,
        "exported_at": _value(now),
        "contact": _row(contact),
        "consent": [_row(r, skip=("contact_id",)) for r in db.scalars(
            select(ConsentRecord).where(ConsentRecord.contact_id == contact.id).order_by(ConsentRecord.id))],
        "suppression": _row(suppression, skip=("email_hash", "contact_id")) if suppression else None,
        "bounces": [_row(b, skip=("email_hash",)) for b in db.scalars(
            select(BounceEvent).where(BounceEvent.email_hash == digest).order_by(BounceEvent.id))],
        "events": [_row(e, skip=("contact_id",)) for e in db.scalars(
            select(Event).where(Event.contact_id == contact.id).order_by(Event.id))],
        "enrollments": [{**_row(e, skip=("contact_id", "claimed_until")), "journey": names.get(e.journey_id),
                         "trace": steps.get(e.id, [])} for e in enrollments],
        "messages": [_row(m, skip=("contact_id", "lease_until")) for m in db.scalars(
            select(Message).where(Message.contact_id == contact.id).order_by(Message.id))],
        "tracking": [_row(h) for h in db.scalars(  # opens and clicks of its emails (docs/analytics.md)
            select(TrackingHit).join(Message, Message.id == TrackingHit.message_id)
            .where(Message.contact_id == contact.id).order_by(TrackingHit.id))],
        "webhook_calls": [_row(w, skip=("contact_id", "lease_until")) for w in db.scalars(
            select(WebhookCall).where(WebhookCall.contact_id == contact.id).order_by(WebhookCall.id))],
        "pending_carts": [_row(c) for c in db.scalars(select(PendingCart).where(or_(*who)).order_by(PendingCart.id))],
        "privacy_requests": [_row(p) for p in db.scalars(
            select(PrivacyRequest).where(or_(*asked)).order_by(PrivacyRequest.id))],
        "audit": [_row(a, skip=("actor_id",)) for a in db.scalars(
            select(AuditEntry).where(AuditEntry.target == f"contact:{contact.id}").order_by(AuditEntry.id))],
    }


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of a model instance, as JSON values."""
    return {attr.key: _value(getattr(obj, attr.key)) for attr in inspect(obj).mapper.column_attrs
            if attr.key not in skip}


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, (dict, list, str)):  # enums
        return value.value
    return value
