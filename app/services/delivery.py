"""Deliver queued messages: lease, check consent again, render, send, record.

The lease (`sending`) is committed before any SMTP, and each outcome is
committed as soon as it is known, so a crash leaves at most the message in
flight unsure (`ambiguous`, settled by the reconciler). Consent and
suppression are checked here, at send time, not only when the journey step
ran: a contact who unsubscribed while the message waited gets nothing.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Protocol
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy.orm import Session

from app.config import Settings
from app.mail import AmbiguousFailure, MailBackend, PermanentFailure, TemporaryFailure, build_message
from app.models import Contact, Enrollment, Message, SubscriptionStatus, TemplateVersion
from app.services import ledger
from app.services.contact_links import preferences_url, unsubscribe_url
from app.services.facts import facts_for
from journeys.errors import TemplateError
from journeys.personalisation import template_context
from journeys.rendering import RenderedEmail, Renderer, TemplateSource

log = logging.getLogger(__name__)

_renderer = Renderer()


class RateLimiter(Protocol):
    def acquire(self, timeout: float) -> bool: ...


def deliver(db: Session, ids: list[int], now_fn: Callable[[], datetime], backend: MailBackend,
            settings: Settings, limiter: RateLimiter | None = None) -> Counter[str]:
    """Send the queued, due messages among `ids`; returns counts by outcome.

    Each message is leased just before it is sent, not the whole batch up
    front: a worker killed mid-batch leaves only the one in flight unsure.
    """
    outcomes: Counter[str] = Counter()
    with backend:
        for ident in ids:
            leased = ledger.lease(db, [ident], now_fn())
            if not leased:
                continue  # sent, settled or held by another job already
            outcome = _deliver_one(db, leased[0], now_fn, backend, settings, limiter)
            db.commit()
            outcomes[outcome] += 1
    return outcomes


def _deliver_one(db: Session, message: Message, now_fn: Callable[[], datetime], backend: MailBackend,
                 settings: Settings, limiter: RateLimiter | None) -> str:
    now = now_fn()
    contact = db.get(Contact, message.contact_id)
    if contact is None:
        ledger.mark_failed(db, message, now, "the contact no longer exists")
        return "failed"
    refusal = _refusal(db, message, contact, now)
    if refusal:
        ledger.mark_suppressed(db, message, now, refusal)
        return "suppressed"
    try:
        email = render(db, message, contact, settings, now)
    except TemplateError as exc:
        ledger.mark_failed(db, message, now, f"template: {exc}")
        return "failed"
    marketing = message.category == "marketing"
    mime = build_message(key=message.key, sender=settings.mail_from, to=contact.email,
                         subject=email.subject, html=email.html, text=email.text, now=now,
                         domain=_domain(settings.mail_from),
                         list_unsubscribe=unsubscribe_url(settings, contact.id, message.key) if marketing else None,
                         one_click=marketing)
    message.subject = email.subject[:500]
    if limiter is not None:
        limiter.acquire(timeout=60)
    try:
        provider_id = backend.send(mime)
    except TemporaryFailure as exc:
        return "retrying" if ledger.retry_later(db, message, now_fn(), str(exc)) else "failed"
    except PermanentFailure as exc:
        ledger.mark_failed(db, message, now_fn(), str(exc))
        return "failed"
    except AmbiguousFailure as exc:
        if marketing:
            ledger.mark_ambiguous(db, message, now_fn(), str(exc))
            return "ambiguous"
        ledger.retry_later(db, message, now_fn(), f"ambiguous, re-sent with the same Message-ID: {exc}")
        return "retrying"
    ledger.mark_sent(db, message, now_fn(), provider_id)
    return "sent"


def _refusal(db: Session, message: Message, contact: Contact, now: datetime) -> str | None:
    facts = facts_for(db, contact, now)
    if facts.suppressed:
        return "suppressed"
    if message.category == "marketing" and contact.subscription_status != SubscriptionStatus.subscribed:
        if contact.subscription_status == SubscriptionStatus.unsubscribed:
            return "unsubscribed"
        return "no_consent"
    return None


def render(db: Session, message: Message, contact: Contact, settings: Settings, now: datetime) -> RenderedEmail:
    version = db.get(TemplateVersion, message.template_version_id) if message.template_version_id else None
    if version is None:
        raise TemplateError("the template version of this message no longer exists")
    enrollment = db.get(Enrollment, message.enrollment_id) if message.enrollment_id else None
    event = dict((enrollment.state or {}).get("event") or {}) if enrollment else {}
    context = template_context(facts_for(db, contact, now), event,
                               unsubscribe_url=unsubscribe_url(settings, contact.id, message.key),
                               preferences_url=preferences_url(settings, contact.id))
    source = TemplateSource(version.subject, version.mjml, version.preheader or "")
    # Not the id alone: SQLite may hand a deleted row's id to a new one.
    key = f"template-version-{version.id}-{version.template_id}-{version.number}-{version.created_at.isoformat()}"
    return _renderer.render(source, context, key=key)


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"

