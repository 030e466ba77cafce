"""The suppression list: addresses that get nothing (bounced, complained, erased, blocked by hand).

Stored as SHA-256 digests, so an erased person's address is not kept to keep them suppressed.
Listing shows the contact when one still has the address; releasing (admins only, with a
reason) deletes the row and says so in the audit log. An erasure's suppression cannot be
released: the person asked to be forgotten, and the next webhook must not bring them back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Contact, Suppression, email_digest
from app.services import audit_log

PAGE_SIZE = 50
REASONS = ("bounce", "complaint", "erasure", "manual")


def suppress(db: Session, email: str, *, reason: str, source: str, now: datetime, detail: str = "",
             contact_id: int | None = None) -> Suppression:
    """The address's suppression, made now unless it exists (a complaint outranks a bounce)."""
    digest = email_digest(email)
    row = db.scalar(select(Suppression).where(Suppression.email_hash == digest))
    if row is not None:
        if reason == "complaint" and row.reason == "bounce":
            row.reason, row.detail = reason, detail[:500]
        return row
    row = Suppression(email_hash=digest, reason=reason, source=source[:100], created_at=now,
                      contact_id=contact_id, detail=detail[:500])
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:  # made concurrently by another notification
        row = db.scalars(select(Suppression).where(Suppression.email_hash == digest)).one()
    return row


@dataclass(frozen=True)
class Listed:
    row: Suppression
    contact: Contact | None


@dataclass(frozen=True)
class SuppressionPage:
    rows: list[Listed]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total


def listing(db: Session, *, reason: str = "", email: str = "", page: int = 1) -> SuppressionPage:
    """Newest first; `email` finds one address (by its digest: addresses are not stored)."""
    if reason and reason not in REASONS:
        raise ValidationFailed(f"reason must be one of {', '.join(REASONS)}.", field="reason")
    number = max(page, 1)
    stmt = select(Suppression, Contact).outerjoin(Contact, Contact.id == Suppression.contact_id)
    if reason:
        stmt = stmt.where(Suppression.reason == reason)
    if email.strip():
        stmt = stmt.where(Suppression.email_hash == email_digest(email))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.execute(stmt.order_by(Suppression.created_at.desc(), Suppression.id.desc())
                      .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).all()
    return SuppressionPage([Listed(s, c) for s, c in rows], total, number)


def release(db: Session, suppression_id: int, *, reason: str, actor: str, actor_id: int | None,
            now: datetime) -> Suppression:
    """Let mail reach the address again. The reason is required and goes in the audit log."""
    row = db.get(Suppression, suppression_id)
    if row is None:
        raise NotFound(f"No suppression {suppression_id}.")
    if not reason.strip():
        raise ValidationFailed("Say why this address may receive mail again.", field="reason")
    if row.reason == "erasure":
        raise Conflict("This address belongs to an erased contact: it stays suppressed.")
    audit_log.write(db, actor=actor, actor_id=actor_id, action="suppression.release",
                    target=f"contact:{row.contact_id}" if row.contact_id else f"suppression:{row.id}", now=now,
                    was=row.reason, since=row.created_at.isoformat(), reason=reason.strip()[:500])
    db.delete(row)
    db.flush()
    return row


def of_contact(db: Session, contact: Contact) -> Suppression | None:
    return db.scalar(select(Suppression).where(Suppression.email_hash == email_digest(contact.email)))
