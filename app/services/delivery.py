"""Deliver queued messages: lease, check consent again, render, send, record.

The lease (`sending`) is committed before any SMTP, and each outcome is
committed before the next message is sent, so a crash leaves at most the message in
flight unsure (`ambiguous`, settled by the reconciler). Consent and
suppression are checked here, at send time, not only when the journey step
ran: a contact who unsubscribed while the message waited gets nothing.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, literal, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.mail import AmbiguousFailure, MailBackend, PermanentFailure, TemporaryFailure, build_message
from app.mail.streams import Streams
from app.models import Contact, Enrollment, EnrollmentStep, Message, SubscriptionStatus, TemplateVersion
from app.models.base import UTCDateTime
from app.services import double_opt_in, ledger, tracking, workspace
from app.services.unsubscribe import with_footer
from app.services.workspace import Sender, Workspace
from app.services.ledger import Leased
from app.services.contact_links import preferences_url, unsubscribe_url
from app.services.facts import COLUMNS, facts_for_many
from journeys.errors import TemplateError
from journeys.state import ContactFacts
from journeys.personalisation import template_context
from journeys.rendering import RenderedEmail, Renderer, TemplateSource, template_has_unsubscribe_link

log = logging.getLogger(__name__)

_renderer = Renderer()


class RateLimiter(Protocol):
    def acquire(self, timeout: float) -> bool: ...


def deliver(db: Session, ids: list[int], now_fn: Callable[[], datetime], backend: MailBackend | Streams,
            settings: Settings, limiter: RateLimiter | None = None) -> Counter[str]:
    """Send the queued, due messages among `ids`; returns counts by outcome.

    Each message is leased just before it is sent, not the whole batch up
    front: a worker killed mid-batch leaves only the one in flight unsure. The
    outcome of one message and the lease of the next commit together, so a
    message costs one commit. What a render needs (contacts, their consent and
    suppression, templates, trigger events) is read once per batch, when the
    job starts: consent is as fresh as the job, not as old as the journey step.
    `backend` may be mail Streams (app/mail/streams.py): each category then goes its own way.
    """
    outcomes: Counter[str] = Counter()
    batch = _Batch.load(db, ids, now_fn(), settings.mail_from)
    pending = list(ids)
    streams = Streams.of(backend, limiter)
    with streams:
        message = _lease_next(db, pending, now_fn)
        while message is not None:
            outcomes[_deliver_one(db, message, batch, now_fn, streams, settings)] += 1
            message = _lease_next(db, pending, now_fn)  # commits this outcome with the next lease
    return outcomes


def _lease_next(db: Session, pending: list[int], now_fn: Callable[[], datetime]) -> Leased | None:
    while pending:
        leased = ledger.lease(db, [pending.pop(0)], now_fn())  # commits
        if leased:
            return leased[0]
    db.commit()
    return None  # the rest were sent, settled or held by another job already


@dataclass
class _Batch:
    contacts: dict[int, Any]
    facts: dict[int, ContactFacts]
    events: dict[int, dict[str, Any]]
    versions: dict[int, TemplateVersion]
    workspace: Workspace
    sender: Sender
    shop: dict[str, str]

    @classmethod
    def load(cls, db: Session, ids: list[int], now: datetime, mail_from: str) -> _Batch:
        rows = db.execute(select(Message.contact_id, Message.enrollment_id, Message.template_version_id)
                          .where(Message.id.in_(ids))).all()
        contacts = {c.id: c for c in db.execute(select(*COLUMNS).where(
            Contact.id.in_({r.contact_id for r in rows}))).all()}
        events = {ident: dict((state or {}).get("event") or {}) for ident, state in db.execute(
            select(Enrollment.id, Enrollment.state).where(
                Enrollment.id.in_({r.enrollment_id for r in rows if r.enrollment_id})))}
        versions = {v.id: v for v in db.scalars(select(TemplateVersion).where(
            TemplateVersion.id.in_({r.template_version_id for r in rows if r.template_version_id})))}
        ws = workspace.current(db)  # Settings: sender, shop, consent mode
        return cls(contacts, facts_for_many(db, list(contacts.values()), now), events, versions,
                   ws, workspace.sender(ws, mail_from), workspace.shop_context(ws))


def _deliver_one(db: Session, message: Leased, batch: _Batch, now_fn: Callable[[], datetime],
                 streams: Streams, settings: Settings) -> str:
    now = now_fn()
    contact = batch.contacts.get(message.contact_id)
    if contact is None:
        ledger.mark_failed(db, message, now, "the contact no longer exists")
        return "failed"
    refusal = _refusal(message, contact, batch.facts[contact.id], batch.workspace.marketing_consent)
    if refusal:
        ledger.mark_suppressed(db, message, now, refusal)
        _trace_refusal(db, message, now, refusal)
        return "suppressed"
    unsubscribe = unsubscribe_url(settings, contact.id, message.key)
    try:
        if double_opt_in.owns(message.key):
            email = double_opt_in.render(settings, batch.workspace.shop_name, contact.id, message.key)
        else:
            tracker = tracking.Tracker(settings, message.id, retry=message.attempts > 1)
            email = render(message, batch, settings, unsubscribe, tracker)
            tracker.save(db)  # the links a click token may lead to, committed with the outcome
    except TemplateError as exc:
        ledger.mark_failed(db, message, now, f"template: {exc}")
        return "failed"
    marketing = message.category == "marketing"
    sender = batch.sender
    mime = build_message(key=message.key, sender=sender.from_header, to=contact.email,
                         subject=email.subject, html=email.html, text=email.text, now=now,
                         domain=_domain(sender.from_header),
                         list_unsubscribe=unsubscribe if marketing else None,
                         one_click=marketing, headers={"Reply-To": sender.reply_to} if sender.reply_to else None)
    stream = streams.for_category(message.category)
    if stream.limiter is not None and not stream.limiter.acquire(timeout=60):
        ledger.retry_later(db, message, now_fn(), "no slot under the send rate limit within 60 s")
        return "retrying"
    try:
        provider_id = stream.send(mime)
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
    ledger.mark_sent(db, message, now_fn(), provider_id, email.subject)
    return "sent"


def _refusal(message: Leased, contact: Any, facts: ContactFacts, consent_mode: str = "explicit") -> str | None:
    if facts.suppressed:
        return "suppressed"
    if double_opt_in.owns(message.key):
        return double_opt_in.refusal(contact.subscription_status)
    if message.category == "marketing" and contact.subscription_status != SubscriptionStatus.subscribed:
        if contact.subscription_status == SubscriptionStatus.unsubscribed:
            return "unsubscribed"
        if contact.subscription_status == SubscriptionStatus.unconfirmed:
            return "unconfirmed"  # double opt-in pending: no marketing mail in either consent mode
        if consent_mode != "not_unsubscribed":  # the workspace's consent mode (Settings)
            return "no_consent"
    return None


_T, _M = EnrollmentStep.__table__, Message.__table__
# The journey's trace says why its email did not go, as it does for the core's own skips.
_TRACE_REFUSAL = insert(_T).from_select(
    ["enrollment_id", "at", "node", "outcome", "reason"],
    select(_M.c.enrollment_id, bindparam("at", type_=UTCDateTime()), func.coalesce(_M.c.node, "-"),
           literal("not_sent"), bindparam("reason"))
    .where(_M.c.id == bindparam("message_id"), _M.c.enrollment_id.is_not(None)))


def _trace_refusal(db: Session, message: Leased, now: datetime, reason: str) -> None:
    if message.enrollment_id is not None:
        db.connection().execute(_TRACE_REFUSAL, {"at": now, "reason": reason[:40], "message_id": message.id})


def render(message: Leased, batch: _Batch, settings: Settings, unsubscribe: str,
           tracker: tracking.Tracker | None = None) -> RenderedEmail:
    """`tracker`: rewrite links and add the open pixel when the template tracks (it keeps the links)."""
    version = batch.versions.get(message.template_version_id or -1)
    if version is None:
        raise TemplateError("the template version of this message no longer exists")
    contact_id = message.contact_id
    context = template_context(batch.facts[contact_id], batch.events.get(message.enrollment_id or -1, {}),
                               unsubscribe_url=unsubscribe,
                               preferences_url=preferences_url(settings, contact_id),
                               shop=batch.shop)
    source = TemplateSource(version.subject, version.mjml, version.preheader or "")
    # Not the id alone: SQLite may hand a deleted row's id to a new one.
    key = f"template-version-{version.id}-{version.template_id}-{version.number}-{version.created_at.isoformat()}"
    if tracker is not None and not version.template.tracking:
        tracker = None  # tracking is off for this template: no pixel, links untouched
    email = _renderer.render(source, context, key=key, rewrite_link=tracker.rewrite if tracker else None)
    if message.category == "marketing" and not _links_unsubscribe(version.id, version.mjml):
        email = with_footer(email, settings, contact_id, unsubscribe)  # every marketing email shows one
    return tracker.finish(email) if tracker is not None else email


@lru_cache(maxsize=256)
def _links_unsubscribe(version_id: int, mjml: str) -> bool:
    return template_has_unsubscribe_link(mjml)


@lru_cache(maxsize=16)
def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"

