"""Consent: every change of a contact's marketing consent goes through `change`.

Events and the shops' webhooks (through events.upsert_contact), the API, CSV imports, the
unsubscribe link, the preference center and the double opt-in confirmation all call it, so each
change is recorded the same way: a new consent record (who, when, from where, with which
wording), the contact's current status for fast checks at send time, and an audit entry.

Two rules live here and nowhere else:
- a suppressed address (bounced, complained, erased) is never subscribed again by an upsert,
  a webhook or an import: an admin releases the suppression first (docs/consent.md);
- where double opt-in applies to the source, "subscribed" becomes "unconfirmed" and a
  confirmation email goes out; marketing mail waits for the click.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import ConsentRecord, Contact, SubscriptionStatus
from app.models.consent import SOURCES
from app.services import audit_log, workspace
from app.services.facts import is_suppressed

log = logging.getLogger(__name__)

#: Categories that take consent. Transactional mail (order confirmations) needs none.
CATEGORIES = ("marketing",)
#: Sources where the contact proved they own the address (a signed link): no double opt-in.
PROVEN = frozenset({"link", "confirmation"})
#: Sources that may be asked to confirm by email first (workspace double_opt_in settings).
CONFIRMABLE = ("webhook", "import", "form", "api")


def change(db: Session, contact: Contact, category: str, status: str | SubscriptionStatus, *, source: str,
           now: datetime, ip: str | None = None, user_agent: str | None = None, wording: str | None = None,
           actor: str | None = None, actor_id: int | None = None,
           details: dict[str, Any] | None = None) -> ConsentRecord | None:
    """Record that `contact`'s consent for `category` is now `status` (flushes, does not commit).

    Returns the new record, or None when nothing changed: the status was already that, or a
    suppressed address was to be subscribed. `status` "subscribed" from a source that needs
    double opt-in records "unconfirmed" and queues the confirmation email instead.
    """
    target = _check(category, status, source)
    current = contact.subscription_status or SubscriptionStatus.never_subscribed  # None: not yet flushed
    if target == SubscriptionStatus.subscribed:
        if current == SubscriptionStatus.subscribed:
            return None
        if contact.erased_at is not None or is_suppressed(db, contact.email):
            log.info("consent: contact %s is suppressed; %s did not subscribe it", contact.id, source)
            return None
        if source not in PROVEN and needs_confirmation(workspace.current(db), source):
            return _ask_to_confirm(db, contact, source=source, now=now, ip=ip, user_agent=user_agent,
                                   wording=wording, actor=actor, actor_id=actor_id, details=details)
    if target == current:
        return None
    return _record(db, contact, category, target, source=source, now=now, ip=ip, user_agent=user_agent,
                   wording=wording, actor=actor, actor_id=actor_id, details=details)


def apply_input(db: Session, contact: Contact, consent: dict[str, Any] | None, *, origin: str,
                now: datetime) -> None:
    """An upsert's `consent` ({"marketing": status}) from an event stored by `origin` (the event's
    source: `api:<key>`, `shopify:<shop>`, `import`, `form` …)."""
    for category, status in (consent or {}).items():
        if status and category in CATEGORIES:
            change(db, contact, category, status, source=source_of(origin), now=now, details={"via": origin[:100]})


def source_of(origin: str) -> str:
    """A consent source for an event source label: shops' webhooks, imports, forms, else the API."""
    kind = origin.partition(":")[0]
    if kind in ("shopify", "woocommerce", "webhook"):
        return "webhook"
    if kind in ("import", "form"):
        return kind
    return "api"


def needs_confirmation(ws: workspace.Workspace, source: str) -> bool:
    if source not in CONFIRMABLE:
        return False
    return bool(ws.double_opt_in_sources.get(source, ws.double_opt_in))  # type: ignore[call-overload]


def history(db: Session, contact_id: int) -> list[ConsentRecord]:
    """Every record of the contact, newest first."""
    return list(db.scalars(select(ConsentRecord).where(ConsentRecord.contact_id == contact_id)
                           .order_by(ConsentRecord.at.desc(), ConsentRecord.id.desc())))


def _check(category: str, status: str | SubscriptionStatus, source: str) -> SubscriptionStatus:
    if category not in CATEGORIES:
        raise ValidationFailed(f"consent category must be one of {', '.join(CATEGORIES)} "
                               "(transactional mail needs no consent).", field="category")
    try:
        target = SubscriptionStatus(status)
    except ValueError:
        raise ValidationFailed(f"consent status must be one of {', '.join(s.value for s in SubscriptionStatus)}.",
                               field="status") from None
    if source not in SOURCES:
        raise ValueError(f"unknown consent source {source!r}")  # a programming error, not input
    return target


def _ask_to_confirm(db: Session, contact: Contact, **kw: Any) -> ConsentRecord | None:
    from app.services import double_opt_in

    record = None
    if contact.subscription_status != SubscriptionStatus.unconfirmed:
        record = _record(db, contact, "marketing", SubscriptionStatus.unconfirmed, **kw)
    double_opt_in.request(db, contact, kw["now"])
    return record


def _record(db: Session, contact: Contact, category: str, target: SubscriptionStatus, *, source: str,
            now: datetime, ip: str | None, user_agent: str | None, wording: str | None, actor: str | None,
            actor_id: int | None, details: dict[str, Any] | None) -> ConsentRecord:
    if contact.id is None:
        db.flush()
    before = contact.subscription_status
    record = ConsentRecord(contact_id=contact.id, category=category, status=target.value, source=source,
                           ip=(ip or None) and ip[:45], user_agent=(user_agent or None) and user_agent[:500],
                           wording=wording, details=details or None, at=now)
    db.add(record)
    contact.subscription_status, contact.updated_at = target, now
    audit_log.write(db, actor=actor or _actor_for(source, contact), actor_id=actor_id, action="consent.change",
                    target=f"contact:{contact.id}", now=now, category=category,
                    before=before.value if before else None, after=target.value, source=source)
    db.flush()
    return record


def _actor_for(source: str, contact: Contact) -> str:
    # The contact acted themselves on the public pages; everything else is the system on someone's behalf.
    return f"contact:{contact.id}" if source in ("link", "confirmation") else "system"
