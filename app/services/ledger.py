"""The message ledger's state machine: queued → sending → sent | failed | ambiguous.

SMTP cannot be exactly-once (RFC 1047): a crash between the end of DATA and
our commit leaves both sides unsure. So the `sending` state, with a lease, is
committed *before* DATA; a message found in `sending` after its lease ran out
is `ambiguous`. Marketing mail is then never re-sent silently; transactional
mail is re-sent, with the same Message-ID so the receiver can spot a repeat.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from app.models import Message, MessageStatus

#: Seconds a delivery job may hold a message before it counts as ambiguous.
LEASE_SECONDS = 120
#: Delivery attempts before a transient failure becomes final.
MAX_ATTEMPTS = 6
#: Seconds before the first retry; doubled on each further attempt.
BACKOFF_BASE = 30

Q, SENDING = MessageStatus.queued.value, MessageStatus.sending.value
_T = Message.__table__


@dataclass(frozen=True)
class Leased:
    """A message this job holds: what delivery needs to send it and record the outcome."""
    id: int
    key: str
    contact_id: int
    enrollment_id: int | None
    template_version_id: int | None
    category: str
    attempts: int


# Built once: delivery leases and settles one message at a time, and SQLAlchemy's
# statement construction would otherwise cost more than the database round trip.
_LEASE = (update(_T)
          .where(_T.c.id.in_(bindparam("ids", expanding=True)), _T.c.status == Q,
                 or_(_T.c.next_attempt_at.is_(None), _T.c.next_attempt_at <= bindparam("now")))
          .values(status=SENDING, lease_until=bindparam("until"), attempts=_T.c.attempts + 1,
                  updated_at=bindparam("now"))
          .returning(_T.c.id, _T.c.key, _T.c.contact_id, _T.c.enrollment_id, _T.c.template_version_id,
                     _T.c.category, _T.c.attempts))
_SETTLE: dict[tuple[str, ...], Any] = {}


def lease(db: Session, ids: list[int], now: datetime,
          seconds: int = LEASE_SECONDS) -> list[Leased]:
    """Take the queued, due messages among `ids` for sending; commit before any SMTP.

    One conditional UPDATE … RETURNING: of two jobs racing for a message, exactly
    one changes its row, on SQLite (no row locks) as on Postgres.
    """
    rows = db.connection().execute(_LEASE, {"ids": ids, "now": now,
                                            "until": now + timedelta(seconds=seconds)}).all()
    db.commit()
    return sorted((Leased(*row) for row in rows), key=lambda m: m.id)


def _settle(db: Session, message: Leased, **values: Any) -> None:
    """Record an outcome; the caller's next commit (often the next lease) makes it durable."""
    names = tuple(sorted(values))
    statement = _SETTLE.get(names)
    if statement is None:
        statement = _SETTLE[names] = update(_T).where(_T.c.id == bindparam("b_id")).values(
            {name: bindparam(f"v_{name}") for name in names})
    db.connection().execute(statement, {"b_id": message.id, **{f"v_{k}": v for k, v in values.items()}})


def mark_sent(db: Session, message: Leased, now: datetime, provider_id: str, subject: str = "") -> None:
    _settle(db, message, status=MessageStatus.sent.value, sent_at=now, updated_at=now, subject=subject[:500],
            provider_message_id=provider_id, lease_until=None, last_error=None)


def mark_failed(db: Session, message: Leased, now: datetime, error: str) -> None:
    _settle(db, message, status=MessageStatus.failed.value, updated_at=now, lease_until=None,
            last_error=error[:2000])


def mark_suppressed(db: Session, message: Leased, now: datetime, reason: str) -> None:
    _settle(db, message, status=MessageStatus.suppressed.value, updated_at=now, lease_until=None,
            last_error=reason)


def mark_ambiguous(db: Session, message: Leased, now: datetime, error: str) -> None:
    """The server may have the message: shown to operators, never re-sent silently."""
    _settle(db, message, status=MessageStatus.ambiguous.value, updated_at=now, lease_until=None,
            last_error=error[:2000])


def retry_later(db: Session, message: Leased, now: datetime, error: str) -> datetime | None:
    """Back off after a transient failure: the time of the next attempt, or None when
    the attempts are used up (the message is failed)."""
    if message.attempts >= MAX_ATTEMPTS:
        mark_failed(db, message, now, f"gave up after {message.attempts} attempts: {error}")
        return None
    retry_at = now + timedelta(seconds=BACKOFF_BASE * 2 ** (message.attempts - 1))
    _settle(db, message, status=Q, next_attempt_at=retry_at, lease_until=None, last_error=error[:2000],
            updated_at=now)
    return retry_at


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
