"""What is happening inside journeys: the list with its headline numbers, counts per node (the
canvas overlay), and a journey's statistics. Read-only, a few grouped queries each."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from app.models import Enrollment, EnrollmentStep, Journey, JourneyStatus, JourneyVersion, Message, User

#: Statuses of an enrollment still inside its journey.
INSIDE = ("active", "waiting")
#: Message statuses that count as "sent" in the journeys list.
SENT = ("sent",)
RECENT = timedelta(days=7)


@dataclass(frozen=True)
class JourneySummary:
    id: int
    name: str
    status: str
    live_version: int | None
    inside: int
    sent_7d: int
    created_at: datetime
    updated_at: datetime
    updated_by: str | None


@dataclass
class NodeCounts:
    """One node: contacts waiting there now, contacts that reached it, steps by outcome, and
    for a send node its messages by status."""

    waiting: int = 0
    reached: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        """Contacts that reached the node and are no longer waiting there."""
        return max(self.reached - self.waiting, 0)


@dataclass(frozen=True)
class JourneyStats:
    entered: int
    inside: int
    completed: int
    exited: dict[str, int]
    goals_reached: int
    messages: dict[str, int]
    nodes: dict[str, NodeCounts]


def list_journeys(db: Session, now: datetime, *, include_archived: bool = True) -> list[JourneySummary]:
    """Every journey, most recently changed first, with its headline numbers."""
    stmt = select(Journey, User.email).outerjoin(User, User.id == Journey.updated_by_id)
    if not include_archived:
        stmt = stmt.where(Journey.status != JourneyStatus.archived)
    rows = db.execute(stmt.order_by(Journey.updated_at.desc(), Journey.id.desc())).all()
    ids = [j.id for j, _ in rows]
    if not ids:
        return []
    live = dict(db.execute(select(JourneyVersion.journey_id, func.max(JourneyVersion.number))
                           .where(JourneyVersion.journey_id.in_(ids)).group_by(JourneyVersion.journey_id)).all())
    inside = dict(db.execute(select(Enrollment.journey_id, func.count()).where(
        Enrollment.journey_id.in_(ids), Enrollment.status.in_(INSIDE)).group_by(Enrollment.journey_id)).all())
    sent = dict(db.execute(select(Enrollment.journey_id, func.count(Message.id))
                           .join(Message, Message.enrollment_id == Enrollment.id)
                           .where(Enrollment.journey_id.in_(ids), Message.status.in_(SENT),
                                  Message.sent_at >= now - RECENT)
                           .group_by(Enrollment.journey_id)).all())
    return [JourneySummary(j.id, j.name, j.status.value, live.get(j.id), inside.get(j.id, 0), sent.get(j.id, 0),
                           j.created_at, j.updated_at, email) for j, email in rows]


def node_counts(db: Session, journey: Journey) -> dict[str, NodeCounts]:
    """Per node id, across every version of the journey (node ids carry over between versions)."""
    counts: dict[str, NodeCounts] = {}
    mine = Enrollment.journey_id == journey.id
    for node, n in db.execute(select(Enrollment.node, func.count()).where(mine, Enrollment.status == "waiting")
                              .group_by(Enrollment.node)):
        if node:
            counts.setdefault(node, NodeCounts()).waiting = n
    steps = (select(EnrollmentStep.node, EnrollmentStep.outcome, func.count())
             .join(Enrollment, Enrollment.id == EnrollmentStep.enrollment_id).where(mine)
             .group_by(EnrollmentStep.node, EnrollmentStep.outcome))
    for node, outcome, n in db.execute(steps):
        counts.setdefault(node, NodeCounts()).outcomes[outcome] = n
    for node, n in db.execute(select(EnrollmentStep.node, func.count(distinct(EnrollmentStep.enrollment_id)))
                              .join(Enrollment, Enrollment.id == EnrollmentStep.enrollment_id).where(mine)
                              .group_by(EnrollmentStep.node)):
        counts.setdefault(node, NodeCounts()).reached = n
    for node, status, n in db.execute(select(Message.node, Message.status, func.count())
                                      .join(Enrollment, Enrollment.id == Message.enrollment_id).where(mine)
                                      .group_by(Message.node, Message.status)):
        if node:
            counts.setdefault(node, NodeCounts()).messages[status] = n
    return counts


def journey_stats(db: Session, journey: Journey) -> JourneyStats:
    mine = Enrollment.journey_id == journey.id
    by_status = dict(db.execute(select(Enrollment.status, func.count()).where(mine)
                                .group_by(Enrollment.status)).all())
    exited = dict(db.execute(select(Enrollment.exit_reason, func.count())
                             .where(mine, Enrollment.status == "exited")
                             .group_by(Enrollment.exit_reason)).all())
    goals = db.scalar(select(func.count(distinct(EnrollmentStep.enrollment_id)))
                      .join(Enrollment, Enrollment.id == EnrollmentStep.enrollment_id)
                      .where(mine, EnrollmentStep.outcome == "goal_reached")) or 0
    messages = dict(db.execute(select(Message.status, func.count())
                               .join(Enrollment, Enrollment.id == Message.enrollment_id).where(mine)
                               .group_by(Message.status)).all())
    return JourneyStats(entered=sum(by_status.values()), inside=sum(by_status.get(s, 0) for s in INSIDE),
                        completed=by_status.get("completed", 0),
                        exited={reason or "unknown": n for reason, n in exited.items()},
                        goals_reached=goals, messages=messages, nodes=node_counts(db, journey))
