"""Advance a claimed batch of due enrollments with the core, in one transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Contact, Enrollment, Journey, JourneyStatus, JourneyVersion
from app.services.enrollment import Applied, store
from app.services.facts import facts_for
from app.services.timers import release
from app.services.versions import runnable
from journeys.interpreter import advance
from journeys.state import TIMER, EnrollmentState


def advance_due(db: Session, ids: list[int], now: datetime) -> Applied:
    """Wake the enrollments among `ids` that are still due; the rest are left alone.

    A duplicate job finds its enrollments moved on (no longer due) and does
    nothing; a paused journey's enrollments keep their wake time and wait.
    """
    rows = list(db.scalars(
        select(Enrollment).where(Enrollment.id.in_(ids), Enrollment.status == "waiting",
                                 Enrollment.wake_at <= now)
        .order_by(Enrollment.wake_at).with_for_update(skip_locked=True)))
    applied = Applied()
    active = {j for j in db.scalars(select(Journey.id).where(
        Journey.id.in_({r.journey_id for r in rows}), Journey.status == JourneyStatus.active))}
    contacts = {c.id: c for c in db.scalars(select(Contact).where(Contact.id.in_({r.contact_id for r in rows})))}
    held = []
    for row in rows:
        if row.journey_id not in active:
            held.append(row.id)
            continue
        contact = contacts[row.contact_id]
        version = db.get(JourneyVersion, row.version_id)
        decision = advance(runnable(version), EnrollmentState.from_dict(row.state),
                           facts_for(db, contact, now), TIMER, now)
        if decision.changed:
            applied.messages += store(db, row, decision, contact, now).messages
    if held:
        release(db, held)
    db.commit()
    return applied
