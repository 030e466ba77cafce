"""Bounce and complaint notices applied: recorded, counted, the address suppressed when it must be.

A hard bounce or a complaint suppresses the address at once; soft bounces do when the
workspace's soft_bounce_limit of them arrive within soft_bounce_days. A complaint also
unsubscribes the contact (a spam report is the bluntest unsubscribe there is). The message
the notice is about, when it can be told, is marked bounced or complained: by the Message-ID
it quotes, else the contact's latest sent message of the last few days.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import BounceEvent, BounceKind, Contact, Message, MessageStatus, SubscriptionStatus, email_digest
from app.services import consent, suppressions, workspace
from app.services.bounce_formats import Notice
from app.services.facts import is_suppressed

log = logging.getLogger(__name__)

#: Without a Message-ID, a notice is about the contact's latest message sent within this long.
MATCH_WINDOW = timedelta(days=3)
#: Messages of the contact searched for the quoted Message-ID.
MATCH_ROWS = 200
_ADDRESS = re.compile(r"<?[^\s<>;\"']+@[^\s<>;\"']+>?")
_ID_LOCAL = re.compile(r"<?([0-9a-f]{32})@")


def apply(db: Session, notices: list[Notice], now: datetime) -> Counter[str]:
    """Record every notice (a repeat of a known dedupe key is skipped); flushes, does not commit."""
    ws = workspace.current(db)
    outcome: Counter[str] = Counter()
    for notice in notices:
        outcome[_apply_one(db, notice, now, ws)] += 1
    return outcome


def _apply_one(db: Session, notice: Notice, now: datetime, ws: workspace.Workspace) -> str:
    if notice.dedupe_key and db.scalar(select(BounceEvent.id).where(BounceEvent.dedupe_key == notice.dedupe_key)):
        return "duplicate"
    contact = db.scalar(select(Contact).where(Contact.email == notice.email))
    message = _message(db, contact, notice.message_id, now) if contact else None
    diagnostic = _ADDRESS.sub("<address>", notice.diagnostic)[:500]
    row = BounceEvent(email_hash=email_digest(notice.email), kind=notice.kind.value, provider=notice.provider,
                      message_id=message.id if message else None, diagnostic=diagnostic,
                      dedupe_key=notice.dedupe_key, received_at=now)
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        return "duplicate"  # the same notice, delivered twice at once
    if message is not None:
        _mark(message, notice.kind, diagnostic, now)
    already = is_suppressed(db, notice.email)
    if notice.kind == BounceKind.soft:
        since = now - timedelta(days=ws.soft_bounce_days)
        count = db.scalar(select(func.count()).select_from(BounceEvent).where(
            BounceEvent.email_hash == row.email_hash, BounceEvent.kind == BounceKind.soft.value,
            BounceEvent.received_at >= since)) or 0
        if count < ws.soft_bounce_limit:
            return "soft_bounce"
        diagnostic = f"{count} soft bounces in {ws.soft_bounce_days} days; the last: {diagnostic}"
    reason = "complaint" if notice.kind == BounceKind.complaint else "bounce"
    suppressions.suppress(db, notice.email, reason=reason, source=notice.provider, now=now, detail=diagnostic,
                          contact_id=contact.id if contact else None)
    if notice.kind == BounceKind.complaint and contact is not None:
        consent.change(db, contact, "marketing", SubscriptionStatus.unsubscribed, source="complaint", now=now,
                       details={"provider": notice.provider})
    if not already:
        log.info("suppressed contact %s after a %s from %s", contact.id if contact else "-", notice.kind.value,
                 notice.provider)
    return "suppressed"


def _message(db: Session, contact: Contact, quoted: str | None, now: datetime) -> Message | None:
    local = _ID_LOCAL.search(quoted or "")
    recent = list(db.scalars(select(Message).where(
        Message.contact_id == contact.id, Message.sent_at.is_not(None))
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(MATCH_ROWS)))
    if quoted:
        if local is None:
            return None  # it names a message, and not in our Message-ID form: do not guess
        from app.mail.message import message_id_for

        wanted = local.group(1)
        return next((m for m in recent if message_id_for(m.key, "x").startswith(f"<{wanted}@")), None)
    latest = recent[0] if recent else None
    return latest if latest is not None and latest.sent_at and latest.sent_at >= now - MATCH_WINDOW else None


def _mark(message: Message, kind: BounceKind, diagnostic: str, now: datetime) -> None:
    if kind == BounceKind.soft:
        message.last_error = f"soft bounce: {diagnostic}"[:2000]
    elif message.status in (MessageStatus.sent.value, MessageStatus.bounced.value):
        message.status = (MessageStatus.complained if kind == BounceKind.complaint else MessageStatus.bounced).value
        message.last_error = f"{kind.value}: {diagnostic}"[:2000]
    message.updated_at = now
