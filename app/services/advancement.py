"""Advance a claimed batch of due enrollments with the core, in one transaction.

The batch is read with three queries (enrollments, contacts, their facts),
run through the core in memory, and written with a few set-based statements,
so a job's cost grows with its size, not with round trips per contact.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, type_coerce
from sqlalchemy.orm import Session

from app.models import Contact, Enrollment, Journey, JourneyStatus, JourneyVersion
from app.services import engagement_facts, split_winners, workspace
from app.services.bulk import JSONRead, among
from app.services.enrollment import Applied, Batch
from app.services.facts import BATCH_COLUMNS, facts_for_many
from app.services.timers import release
from app.services.versions import runnable
from journeys.interpreter import advance
from journeys.state import TIMER, EnrollmentState


def advance_due(db: Session, ids: list[int], now: datetime) -> Applied:
    """Wake the enrollments among `ids` that are still due; the rest are left alone.

    A duplicate job finds its enrollments moved on (no longer due) and does
    nothing; a paused journey's enrollments keep their wake time and wait.
    """
    # Core, not ORM, selects, made plain tuples: the ORM's result machinery, and even a Row's
    # attribute access, cost about as much per contact as the core's step. Whether a row is
    # still due is selected, not filtered on: as a filter, SQLite's planner walks the due index
    # past every due enrollment (all of them, in a large wake-up) instead of looking up the ids.
    e = Enrollment.__table__
    due = and_(e.c.status == "waiting", e.c.wake_at <= now)
    rows = [(ident, step, state, contact_id, version_id, journey_id)
            for ident, step, state, contact_id, version_id, journey_id, is_due in db.connection().execute(
                select(e.c.id, e.c.step, type_coerce(e.c.state, JSONRead()), e.c.contact_id, e.c.version_id,
                       e.c.journey_id, due)
                .where(among(db, e.c.id, ids)).order_by(e.c.wake_at)).all() if is_due]
    active = set(db.scalars(select(Journey.id).where(
        Journey.id.in_({r[5] for r in rows}), Journey.status == JourneyStatus.active)))
    held = [r[0] for r in rows if r[5] not in active]
    rows = [r for r in rows if r[5] in active]
    contacts = db.connection().execute(
        select(*BATCH_COLUMNS)
        .where(among(db, Contact.__table__.c.id, {r[3] for r in rows}))).all()
    facts = facts_for_many(db, contacts, now)
    versions = {v.id: runnable(v) for v in db.scalars(
        select(JourneyVersion).where(JourneyVersion.id.in_({r[4] for r in rows})))}
    policy = split_winners.with_winners(db, workspace.engine_policy(workspace.current(db)))
    engaged = engagement_facts.for_enrollments(db, [r[0] for r in rows])
    batch = Batch(now)
    for ident, step, state, contact_id, version_id, _ in rows:
        contact = facts[contact_id]
        contact.engagement = engaged.get(ident, {})  # engagement.* is per enrollment
        before = EnrollmentState.from_dict(state)
        decision = advance(versions[version_id], before, contact, TIMER, now, policy=policy)
        if decision.changed:
            batch.add(db, ident, step, decision, contact_id, contact, before=before)
    applied = batch.write(db)
    if held:
        release(db, held)
    db.commit()
    return applied
