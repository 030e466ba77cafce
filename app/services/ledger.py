"""The message ledger's state machine: queued → sending → sent | failed | ambiguous.

SMTP cannot be exactly-once (RFC 1047): a crash between the end of DATA and
our commit leaves both sides unsure. So the `sending` state, with a lease, is
committed *before* DATA; a message found in `sending` after its lease ran out
is `ambiguous`. Marketing mail is then never re-sent silently; transactional
mail is re-sent, with the same Message-ID so the receiver can spot a repeat.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.models import Message, MessageStatus

#: Seconds a delivery job may hold a message before it counts as ambiguous.
LEASE_SECONDS = 120
#: Delivery attempts before a transient failure becomes final.
MAX_ATTEMPTS = 6
#: Seconds before the first retry; doubled on each further attempt.
BACKOFF_BASE = 30

Q, SENDING = MessageStatus.queued.value, MessageStatus.sending.value


def lease(db: Session, ids: list[int], now: datetime,
          seconds: int = LEASE_SECONDS) -> list[Message]:
    """Take the queued, due messages among `ids` for sending; commit before any SMTP.

    One conditional UPDATE … RETURNING: of two jobs racing for a message, exactly
    one changes its row, on SQLite (no row locks) as on Postgres.
    """
    taken = list(db.scalars(
        update(Message)
        .where(Message.id.in_(ids), Message.status == Q,
               or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
        .values(status=SENDING, lease_until=now + timedelta(seconds=seconds),
                attempts=Message.attempts + 1, updated_at=now)
        .returning(Message.id)))
    db.commit()
    if not taken:
        return []
    return list(db.scalars(select(Message).where(Message.id.in_(taken)).order_by(Message.id)
                           .execution_options(populate_existing=True)))


def mark_sent(db: Session, message: Message, now: datetime, provider_id: str) -> None:
    message.status, message.sent_at, message.updated_at = MessageStatus.sent.value, now, now
    message.provider_message_id, message.lease_until, message.last_error = provider_id, None, None


def mark_failed(db: Session, message: Message, now: datetime, error: str) -> None:
    message.status, message.updated_at = MessageStatus.failed.value, now
    message.lease_until, message.last_error = None, error[:2000]


def mark_suppressed(db: Session, message: Message, now: datetime, reason: str) -> None:
    message.status, message.updated_at = MessageStatus.suppressed.value, now
    message.lease_until, message.last_error = None, reason


def mark_ambiguous(db: Session, message: Message, now: datetime, error: str) -> None:
    """The server may have the message: shown to operators, never re-sent silently."""
    message.status, message.updated_at = MessageStatus.ambiguous.value, now
    message.lease_until, message.last_error = None, error[:2000]


def retry_later(db: Session, message: Message, now: datetime, error: str) -> bool:
    """Back off after a transient failure; False when the attempts are used up (failed)."""
    if message.attempts >= MAX_ATTEMPTS:
        mark_failed(db, message, now, f"gave up after {message.attempts} attempts: {error}")
        return False
    delay = BACKOFF_BASE * 2 ** (message.attempts - 1)
    message.status, message.next_attempt_at = Q, now + timedelta(seconds=delay)
    message.lease_until, message.last_error, message.updated_at = None, error[:2000], now
    return True


def reconcile(db: Session, now: datetime) -> dict[str, int]:
    """Settle messages whose delivery job vanished (killed worker, wiped Redis)."""
    expired = (Message.status == SENDING, Message.lease_until < now)
    ambiguous = db.execute(update(Message).where(*expired, Message.category != "transactional")
                           .values(status=MessageStatus.ambiguous.value, lease_until=None,
                                   updated_at=now,
                                   last_error="lease expired during delivery: may or may not "
                                              "have reached the server")).rowcount or 0
    resend = db.execute(update(Message).where(*expired, Message.category == "transactional")
                        .values(status=Q, lease_until=None, next_attempt_at=now,
                                updated_at=now)).rowcount or 0
    db.commit()
    return {"ambiguous": ambiguous, "requeued": resend}


def due_for_delivery(db: Session, now: datetime, limit: int = 1000,
                     older_than: datetime | None = None) -> list[int]:
    """Queued messages whose time has come: the reconciler enqueues them again.

    `older_than`: skip messages queued since then; their own job is still on its way.
    """
    due = or_(Message.next_attempt_at <= now,
              Message.next_attempt_at.is_(None) if older_than is None
              else (Message.next_attempt_at.is_(None) & (Message.updated_at < older_than)))
    return list(db.scalars(
        select(Message.id).where(Message.status == Q, due).order_by(Message.id).limit(limit)))


def counts(db: Session, states: tuple[str, ...]) -> dict[str, int]:
    """How many messages are in each of `states` (failed and ambiguous need an operator)."""
    rows = dict(db.execute(select(Message.status, func.count()).where(Message.status.in_(states))
                           .group_by(Message.status)).all())
    return {state: rows.get(state, 0) for state in states}
