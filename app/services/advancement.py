"""Advance a claimed batch of due enrollments with the core, in one transaction.

The batch is read with three queries (enrollments, contacts, their facts),
run through the core in memory, and written with a few set-based statements,
so a job's cost grows with its size, not with round trips per contact.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Contact, Enrollment, Journey, JourneyStatus, JourneyVersion
from app.services import engagement_facts, split_winners, workspace
from app.services.bulk import among
from app.services.enrollment import Applied, Batch
from app.services.facts import COLUMNS, facts_for_many
from app.services.timers import release
from app.services.versions import runnable
from journeys.interpreter import advance
from journeys.state import TIMER, EnrollmentState


def advance_due(db: Session, ids: list[int], now: datetime) -> Applied:
    """Wake the enrollments among `ids` that are still due; the rest are left alone.

    A duplicate job finds its enrollments moved on (no longer due) and does
    nothing; a paused journey's enrollments keep their wake time and wait.
    """
    # Core, not ORM, selects: the rows are plain tuples and the ORM's result machinery
    # cost more per row than the query.
    e = Enrollment.__table__
    rows = db.connection().execute(
        select(e.c.id, e.c.step, e.c.state, e.c.contact_id, e.c.version_id, e.c.journey_id)
        .where(among(db, e.c.id, ids), e.c.status == "waiting", e.c.wake_at <= now)
        .order_by(e.c.wake_at)).all()
    active = set(db.scalars(select(Journey.id).where(
        Journey.id.in_({r.journey_id for r in rows}), Journey.status == JourneyStatus.active)))
    held = [r.id for r in rows if r.journey_id not in active]
    rows = [r for r in rows if r.journey_id in active]
    contacts = db.connection().execute(
        select(*[Contact.__table__.c[c.key] for c in COLUMNS])
        .where(among(db, Contact.__table__.c.id, {r.contact_id for r in rows}))).all()
    facts = facts_for_many(db, contacts, now)
    versions = {v.id: runnable(v) for v in db.scalars(
        select(JourneyVersion).where(JourneyVersion.id.in_({r.version_id for r in rows})))}
    policy = split_winners.with_winners(db, workspace.engine_policy(workspace.current(db)))
    engaged = engagement_facts.for_enrollments(db, [r.id for r in rows])
    batch = Batch(now)
    for row in rows:
        facts[row.contact_id].engagement = engaged.get(row.id, {})  # engagement.* is per enrollment
        decision = advance(versions[row.version_id], EnrollmentState.from_dict(row.state),
                           facts[row.contact_id], TIMER, now, policy=policy)
        if decision.changed:
            batch.add(db, row.id, row.step, decision, row.contact_id, facts[row.contact_id])
    applied = batch.write(db)
    if held:
        release(db, held)
    db.commit()
    return applied
