"""Carrying out the data-subject requests shops forward (rows `recorded` in privacy_requests).

Shopify's customers/redact erases the customer through the same `erasure.erase` as our own
UI, API and CLI; customers/data_request is answered with the same export, ready for an admin
to download from the contact page (Shopify expects the shop owner to hand it over); shop/redact
erases every contact known only from that shop. A tick task runs this; each request is marked
done with what was done, and the request's own copy of the address is dropped.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Contact, Event, PendingCart, PrivacyRequest, Source
from app.services import audit_log, erasure, export

log = logging.getLogger(__name__)

#: Requests carried out per call (a tick), and contacts erased per shop/redact call.
REQUESTS_PER_CALL = 20
SHOP_CONTACTS_PER_CALL = 100


def recent(db: Session, limit: int = 20) -> list[PrivacyRequest]:
    return list(db.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(limit)))


def process(db: Session, now: datetime) -> int:
    """Carry out up to REQUESTS_PER_CALL recorded requests, each in its own savepoint; commits.
    Returns how many were finished."""
    done = 0
    rows = list(db.scalars(select(PrivacyRequest).where(PrivacyRequest.status == "recorded")
                           .order_by(PrivacyRequest.id).limit(REQUESTS_PER_CALL)))
    for row in rows:
        try:
            with db.begin_nested():
                finished = _carry_out(db, row, now)
        except Exception:  # noqa: BLE001 - one bad request must not block the others; it stays recorded
            log.exception("privacy request %s (%s) failed; it will be retried", row.id, row.topic)
            continue
        done += finished
        db.commit()
    return done


def _carry_out(db: Session, row: PrivacyRequest, now: datetime) -> bool:
    source = db.get(Source, row.source_id) if row.source_id else None
    actor = f"shop:{source.label}" if source else "shop"
    if row.kind == "shop_erasure":
        if source is None:
            return _finish(db, row, now, actor, "the shop's source no longer exists: nothing of it is left")
        erased = _erase_shop(db, source, now, actor)
        if erased == SHOP_CONTACTS_PER_CALL:
            return False  # more to go: the next call continues
        return _finish(db, row, now, actor, f"erased the contacts known only from {source.label}")
    contact = _contact_of(db, row)
    if contact is None or contact.erased_at is not None:
        return _finish(db, row, now, actor, "no such contact is stored: nothing to " +
                       ("export" if row.kind == "export" else "erase"))
    if row.kind == "export":
        export.document(db, contact, now)  # proves it can be made; the download is audited when taken
        return _finish(db, row, now, actor, f"the export of contact {contact.id} is ready: Contacts → "
                       f"{contact.id} → Export", target=f"contact:{contact.id}")
    erasure.erase(db, contact, actor=actor, reason=f"shop request {row.topic}", now=now)
    return _finish(db, row, now, actor, f"erased contact {contact.id}", target=f"contact:{contact.id}")


def _contact_of(db: Session, row: PrivacyRequest) -> Contact | None:
    contact = None
    if row.customer_external_id:
        contact = db.scalar(select(Contact).where(Contact.external_id == row.customer_external_id))
    if contact is None and row.customer_email:
        contact = db.scalar(select(Contact).where(Contact.email == row.customer_email))
    return contact


def _erase_shop(db: Session, source: Source, now: datetime, actor: str) -> int:
    """Erase up to SHOP_CONTACTS_PER_CALL contacts whose every event came from `source`."""
    theirs = select(Event.contact_id).where(Event.source == source.label, Event.contact_id.is_not(None))
    elsewhere = select(Event.contact_id).where(Event.source != source.label, Event.contact_id.is_not(None))
    contacts = list(db.scalars(select(Contact).where(Contact.id.in_(theirs), Contact.id.not_in(elsewhere),
                                                     Contact.erased_at.is_(None))
                               .order_by(Contact.id).limit(SHOP_CONTACTS_PER_CALL)))
    for contact in contacts:
        erasure.erase(db, contact, actor=actor, reason="shop/redact", now=now)
    for cart in db.scalars(select(PendingCart).where(PendingCart.source_id == source.id)):
        cart.payload, cart.contact_email, cart.contact_external_id = {}, None, None
    return len(contacts)


def _finish(db: Session, row: PrivacyRequest, now: datetime, actor: str, outcome: str,
            target: str | None = None) -> bool:
    row.status, row.completed_at, row.outcome = "done", now, outcome[:500]
    row.customer_email = None  # the request no longer needs the address; the audit entry names the contact
    audit_log.write(db, actor=actor, action=f"privacy.{row.kind}", target=target or f"privacy_request:{row.id}",
                    now=now, topic=row.topic, outcome=outcome)
    db.flush()
    return True
