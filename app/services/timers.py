"""Timers live in SQL: claim due enrollments in batches for the workers to advance.

A claim is a short lease (`claimed_until`), not a lock held across a job: if
a worker dies or Redis is wiped, the lease runs out and the next sweep finds
the same enrollments again. Postgres uses `FOR UPDATE SKIP LOCKED`, so
several sweepers never claim the same row; SQLite has a single writer anyway.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.models import Enrollment, Journey, JourneyStatus
from app.services.bulk import among

#: Enrollments advanced by one job: large enough that RQ's per-job cost (5 to 10 ms) and the batch's
#: fixed queries fade, small enough that its writes hold SQLite's write lock only some tens of ms.
BATCH_SIZE = 2000
#: Seconds a claim lasts; a batch not finished by then is claimed again.
CLAIM_SECONDS = 300


@dataclass(frozen=True)
class Claim:
    ids: list[int]
    until: datetime


def _due(now: datetime):  # type: ignore[no-untyped-def]
    # A paused journey holds its contacts: their timers are not due until it resumes.
    active = select(Journey.id).where(Journey.status == JourneyStatus.active)
    return (Enrollment.status == "waiting", Enrollment.wake_at <= now,
            or_(Enrollment.claimed_until.is_(None), Enrollment.claimed_until < now),
            Enrollment.journey_id.in_(active))


def claim_batches(db: Session, now: datetime, *, batches: int, batch_size: int = BATCH_SIZE,
                  lease: timedelta = timedelta(seconds=CLAIM_SECONDS)) -> list[Claim]:
    """Claim up to `batches` batches of due enrollments, oldest first, with one query.

    One query for a tick's worth of batches, not one per batch: each query walks the due
    index past every enrollment already claimed, so a batch at a time made a sweep over a
    large wake-up quadratic.
    """
    ids = list(db.scalars(
        select(Enrollment.id).where(*_due(now)).order_by(Enrollment.wake_at)
        .limit(batches * batch_size).with_for_update(skip_locked=True)))
    if not ids:
        db.rollback()
        return []
    until = now + lease
    db.execute(update(Enrollment).where(among(db, Enrollment.id, ids)).values(claimed_until=until))
    db.commit()
    return [Claim(ids=ids[start:start + batch_size], until=until) for start in range(0, len(ids), batch_size)]


def release(db: Session, ids: list[int]) -> None:
    db.execute(update(Enrollment).where(among(db, Enrollment.id, ids)).values(claimed_until=None))


def any_due(db: Session, now: datetime) -> bool:
    """Whether a sweep at `now` would claim anything: one look into the due index, no count."""
    return db.scalar(select(Enrollment.id).where(*_due(now)).limit(1)) is not None


def due_unclaimed(db: Session, now: datetime) -> int:
    """How many enrollments are due but held by nobody: alert when this stays high."""
    return db.scalar(select(func.count()).select_from(Enrollment).where(*_due(now))) or 0
