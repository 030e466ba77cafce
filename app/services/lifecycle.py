"""Pause, resume and archive a journey.

Pause holds every contact where it is: the timer sweep skips a paused
journey's enrollments and events do not move them. On resume the overdue ones
are simply due, and their sends still honour quiet hours, because the core
checks the window when the send node runs. Archive exits everyone, with a reason.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import Enrollment, EnrollmentStep, Journey, JourneyStatus

ARCHIVED = "journey_archived"


def pause(db: Session, journey: Journey, now: datetime) -> None:
    if journey.status != JourneyStatus.active:
        raise Conflict(f"only an active journey can be paused; this one is {journey.status.value}")
    journey.status, journey.updated_at = JourneyStatus.paused, now


def resume(db: Session, journey: Journey, now: datetime) -> None:
    if journey.status != JourneyStatus.paused:
        raise Conflict(f"only a paused journey can be resumed; this one is {journey.status.value}")
    journey.status, journey.updated_at = JourneyStatus.active, now


def archive(db: Session, journey: Journey, now: datetime) -> int:
    """Exit every contact still inside; returns how many there were."""
    inside = (Enrollment.journey_id == journey.id, Enrollment.status.in_(("active", "waiting")))
    rows = db.execute(select(Enrollment.id, Enrollment.node).where(*inside)).all()
    db.add_all([EnrollmentStep(enrollment_id=ident, at=now, node=node or "-", outcome="exited",
                               reason=ARCHIVED) for ident, node in rows])
    db.execute(update(Enrollment).where(*inside).values(
        status="exited", exit_reason=ARCHIVED, exited_at=now, wake_at=None, waiting_for=None,
        claimed_until=None, updated_at=now))
    journey.status, journey.updated_at = JourneyStatus.archived, now
    return len(rows)
