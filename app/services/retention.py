"""Prune the step traces of enrollments that finished long ago: millions of contacts add up."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import Enrollment, EnrollmentStep

#: Enrollments whose traces one pass deletes: short transactions, never a long lock.
CHUNK = 2000


def prune_traces(db: Session, now: datetime, days: int) -> int:
    """Delete the steps of enrollments finished more than `days` ago; returns steps deleted."""
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(db.scalars(select(Enrollment.id).where(
            Enrollment.exited_at < cutoff,
            select(EnrollmentStep.id).where(EnrollmentStep.enrollment_id == Enrollment.id).exists())
            .limit(CHUNK)))
        if not ids:
            return deleted
        deleted += db.execute(delete(EnrollmentStep).where(EnrollmentStep.enrollment_id.in_(ids))).rowcount or 0
        db.commit()
