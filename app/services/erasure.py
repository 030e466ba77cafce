"""Erasure (GDPR Art. 17): a contact's personal data deleted or pseudonymized everywhere it lives.

Rows are kept where counts depend on them (the contact, its enrollments, events, messages:
journey statistics stay right), with the data that names the person taken out: the address
becomes `erased-<id>@erased.invalid`, attributes, tags, event payloads, subjects, webhook
bodies and IPs go, and every text that still mentions the address or a name gets it replaced.
The address's SHA-256 goes on the suppression list, so a shop's later webhook for the same
person creates a new contact that gets no marketing mail and no consent from the upsert.

The UI, the API, the CLI and Shopify's customers/redact all come through `erase`. Each table
is handled by one function in ERASERS; a module that stores contact data of its own adds one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import String, cast, or_, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import (ConsentRecord, Contact, Enrollment, EnrollmentStep, Event, Message, MessageStatus,
                        PendingCart, PrivacyRequest, SubscriptionStatus, Suppression, WebhookCall, email_digest)
from app.services import audit_log
from app.services.audit_log import scrub

ERASED_DOMAIN = "erased.invalid"
#: What replaces the person's data in free text.
REDACTED = "[erased]"
#: Exit reason of the enrollments an erasure ends.
EXIT_REASON = "contact_erased"


def pseudonym(contact_id: int) -> str:
    """The erased contact's address: unique, and undeliverable by definition (RFC 2606 .invalid)."""
    return f"erased-{contact_id}@{ERASED_DOMAIN}"


@dataclass
class Erasure:
    """What one erasure works with, and what it counted."""

    contact: Contact
    email: str
    external_id: str | None
    #: Strings that name the person: the address, the shop's id, attribute values.
    needles: list[str]
    now: datetime
    counts: dict[str, int] = field(default_factory=dict)

    def clean(self, value: Any) -> Any:
        return scrub(value, self.needles, REDACTED)


Eraser = Callable[[Session, Erasure], int]
#: (name, function) in the order they run; each returns how many rows it changed.
ERASERS: list[tuple[str, Eraser]] = []


def eraser(name: str) -> Callable[[Eraser], Eraser]:
    def register(func: Eraser) -> Eraser:
        ERASERS.append((name, func))
        return func
    return register


def erase(db: Session, contact: Contact, *, actor: str, actor_id: int | None = None, reason: str = "",
          now: datetime) -> dict[str, int]:
    """Erase `contact` (flushes, does not commit); returns rows changed per table. Conflict when
    the contact was erased already."""
    if contact.erased_at is not None:
        raise Conflict(f"Contact {contact.id} was erased on {contact.erased_at:%Y-%m-%d}.")
    work = Erasure(contact, contact.email, contact.external_id, _needles(contact), now)
    for name, func in ERASERS:
        work.counts[name] = func(db, work)
    db.flush()
    audit_log.write(db, actor=actor, actor_id=actor_id, action="contact.erase", target=f"contact:{contact.id}",
                    now=now, reason=work.clean(reason)[:500], rows=work.counts)
    db.flush()
    return work.counts


def _needles(contact: Contact) -> list[str]:
    values = [contact.email, contact.email.partition("@")[0], contact.external_id or ""]
    values += [str(v) for v in (contact.attributes or {}).values() if isinstance(v, (str, int)) and not isinstance(v, bool)]
    first, last = (contact.attributes or {}).get("first_name"), (contact.attributes or {}).get("last_name")
    if isinstance(first, str) and isinstance(last, str):
        values.append(f"{first} {last}")
    # Longest first, so "Ana Nowak" is replaced whole before "Ana"; short values are too common to hunt.
    return sorted({v.strip() for v in values if len(v.strip()) >= 3}, key=len, reverse=True)


@eraser("suppressions")
def _suppress(db: Session, work: Erasure) -> int:
    digest = email_digest(work.email)
    row = db.scalar(select(Suppression).where(Suppression.email_hash == digest))
    if row is None:
        db.add(Suppression(email_hash=digest, reason="erasure", source="erasure", created_at=work.now,
                           contact_id=None, detail=""))
    else:  # erasure outranks a bounce: releasing that later must not lift this
        row.reason, row.source, row.contact_id, row.detail = "erasure", "erasure", None, ""
    db.execute(update(Suppression).where(Suppression.contact_id == work.contact.id).values(contact_id=None))
    return 1


@eraser("events")
def _events(db: Session, work: Erasure) -> int:
    named = or_(Event.contact_id == work.contact.id,
                Event.contact_id.is_(None) & cast(Event.contact, String).contains(work.email, autoescape=True))
    rows = list(db.scalars(select(Event).where(named)))
    for row in rows:
        row.properties, row.contact, row.contact_id = {}, None, work.contact.id
        row.error = "the contact was erased" if row.processed_at is None or row.error else None
        if row.processed_at is None:  # not processed yet: it must not re-create the contact
            row.processed_at = work.now
        if row.idempotency_key and work.clean(row.idempotency_key) != row.idempotency_key:
            row.idempotency_key = f"erased:{row.id}"
    return len(rows)


@eraser("messages")
def _messages(db: Session, work: Erasure) -> int:
    mine = Message.contact_id == work.contact.id
    db.execute(update(Message).where(mine, Message.status == MessageStatus.queued.value).values(
        status=MessageStatus.suppressed.value, last_error="the contact was erased", updated_at=work.now))
    changed = db.execute(update(Message).where(mine).values(to_email=pseudonym(work.contact.id), subject=""))
    for row in db.scalars(select(Message).where(mine, Message.last_error.is_not(None))):
        row.last_error = work.clean(row.last_error)
    return changed.rowcount or 0


@eraser("enrollments")
def _enrollments(db: Session, work: Erasure) -> int:
    rows = list(db.scalars(select(Enrollment).where(Enrollment.contact_id == work.contact.id)))
    for row in rows:
        row.state = work.clean({**(row.state or {}), "event": {}})
        if row.status in ("active", "waiting"):
            db.add(EnrollmentStep(enrollment_id=row.id, at=work.now, node=row.node or "-", outcome="exited",
                                  reason=EXIT_REASON))
            row.status, row.exit_reason, row.exited_at = "exited", EXIT_REASON, work.now
            row.wake_at = row.waiting_for = row.claimed_until = None
            row.updated_at = work.now
    if rows:
        for step in db.scalars(select(EnrollmentStep).where(
                EnrollmentStep.enrollment_id.in_([r.id for r in rows]), EnrollmentStep.detail.is_not(None))):
            cleaned = work.clean(step.detail)
            if cleaned != step.detail:
                step.detail = cleaned
    return len(rows)


@eraser("webhook_calls")
def _webhook_calls(db: Session, work: Erasure) -> int:
    rows = list(db.scalars(select(WebhookCall).where(WebhookCall.contact_id == work.contact.id)))
    for row in rows:
        row.body, row.headers, row.url = None, work.clean(row.headers or {}), work.clean(row.url)
        row.last_error = work.clean(row.last_error) if row.last_error else None
        if row.status == "queued":
            row.status, row.last_error = "failed", "the contact was erased"
    return len(rows)


@eraser("pending_carts")
def _carts(db: Session, work: Erasure) -> int:
    who = [PendingCart.contact_email == work.email]
    if work.external_id:
        who.append(PendingCart.contact_external_id == work.external_id)
    rows = list(db.scalars(select(PendingCart).where(or_(*who))))
    for row in rows:
        row.payload, row.contact_email, row.contact_external_id = {}, None, None
        if row.state == "open":
            row.state, row.cancelled_at = "cancelled", work.now
    return len(rows)


@eraser("privacy_requests")
def _privacy_requests(db: Session, work: Erasure) -> int:
    who = [PrivacyRequest.customer_email == work.email]
    if work.external_id:
        who.append(PrivacyRequest.customer_external_id == work.external_id)
    rows = list(db.scalars(select(PrivacyRequest).where(or_(*who))))
    for row in rows:
        row.customer_email, row.customer_external_id = None, None
        row.details = work.clean(row.details or {})
        row.outcome = work.clean(row.outcome) if row.outcome else None
    return len(rows)


@eraser("consent_records")
def _consent(db: Session, work: Erasure) -> int:
    rows = list(db.scalars(select(ConsentRecord).where(ConsentRecord.contact_id == work.contact.id)))
    for row in rows:
        row.ip, row.user_agent = None, None
        row.details = work.clean(row.details) if row.details else None
    return len(rows)


@eraser("tracking")
def _tracking(db: Session, work: Erasure) -> int:
    """Stored link URLs (personalised) and user agents go; the tracking endpoints then refuse the
    contact's old links (app/services/tracking.py), so they identify nobody."""
    from app.services import tracking

    return tracking.forget(db, list(db.scalars(select(Message.id).where(Message.contact_id == work.contact.id))))


@eraser("audit_log")
def _audit(db: Session, work: Erasure) -> int:
    return audit_log.redact(db, [work.email], work.needles, REDACTED, also_target=f"contact:{work.contact.id}")


@eraser("contacts")
def _contact(db: Session, work: Erasure) -> int:
    c = work.contact
    c.email, c.external_id, c.attributes, c.tags = pseudonym(c.id), None, {}, []
    c.timezone = c.locale = None
    c.subscription_status, c.erased_at, c.updated_at = SubscriptionStatus.unsubscribed, work.now, work.now
    return 1
