"""The complaint guard: a marketing journey whose spam-complaint rate climbs warns, then pauses itself.

Gmail and Yahoo start refusing a sender's bulk mail at a 0.3% complaint rate. Per active
journey, over the workspace's window (complaint_window_days) and from at least
complaint_min_sample sent marketing messages (one complaint among ten sends says nothing),
the rate of messages marked `complained` is compared with complaint_warn_percent (an alert
and a warning in the log) and complaint_pause_percent (the journey pauses, the admins see a
banner, the audit log says why). After an admin resumes the journey or dismisses the alert,
counting starts again from that moment.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Enrollment, Journey, JourneyAlert, JourneyStatus, Message, MessageStatus
from app.services import audit_log, workspace

log = logging.getLogger(__name__)
ACTOR = "complaint guard"


@dataclass(frozen=True)
class Rate:
    journey_id: int
    sent: int
    complaints: int

    @property
    def percent(self) -> float:
        return 100.0 * self.complaints / self.sent if self.sent else 0.0


def rates(db: Session, since: datetime, journey_ids: list[int] | None = None) -> dict[int, Rate]:
    """Marketing messages sent since `since`, and complaints about them, per journey."""
    complained = func.sum(case((Message.status == MessageStatus.complained.value, 1), else_=0))
    stmt = (select(Enrollment.journey_id, func.count(Message.id), complained)
            .join(Enrollment, Enrollment.id == Message.enrollment_id)
            .where(Message.category == "marketing", Message.sent_at >= since)
            .group_by(Enrollment.journey_id))
    if journey_ids is not None:
        stmt = stmt.where(Enrollment.journey_id.in_(journey_ids))
    return {j: Rate(j, sent or 0, int(c or 0)) for j, sent, c in db.execute(stmt)}


def check(db: Session, now: datetime) -> list[JourneyAlert]:
    """One pass over the active journeys; returns the alerts raised (flushes; the caller commits)."""
    ws = workspace.current(db)
    window = now - timedelta(days=ws.complaint_window_days)
    active = {j.id: j for j in db.scalars(select(Journey).where(Journey.status == JourneyStatus.active))}
    if not active:
        return []
    open_alerts = {a.journey_id: a for a in db.scalars(select(JourneyAlert).where(
        JourneyAlert.cleared_at.is_(None), JourneyAlert.journey_id.in_(list(active))))}
    for alert in [a for a in open_alerts.values() if a.level == "paused"]:
        alert.cleared_at, alert.cleared_by = now, "resumed"  # active again: someone resumed it
        del open_alerts[alert.journey_id]
    baselines = dict(db.execute(select(JourneyAlert.journey_id, func.max(JourneyAlert.cleared_at))
                                .where(JourneyAlert.journey_id.in_(list(active)))
                                .group_by(JourneyAlert.journey_id)).all())
    found = rates(db, window, list(active))
    for journey_id, since in baselines.items():
        if since is not None and since > window:  # counting restarted after an admin acted
            found[journey_id] = rates(db, since, [journey_id]).get(journey_id, Rate(journey_id, 0, 0))
    raised = []
    for journey_id, rate in found.items():
        if rate.sent < ws.complaint_min_sample:
            continue
        alert = _judge(db, active[journey_id], rate, open_alerts.get(journey_id), ws, now)
        if alert is not None:
            raised.append(alert)
    db.flush()
    return raised


def _judge(db: Session, journey: Journey, rate: Rate, open_alert: JourneyAlert | None,
           ws: workspace.Workspace, now: datetime) -> JourneyAlert | None:
    from app.services import journeys

    figures = {"complaints": rate.complaints, "sent": rate.sent, "rate": round(rate.percent, 4)}
    if rate.percent >= ws.complaint_pause_percent:
        journeys.pause_journey(db, journey, user=None, now=now, by=ACTOR)
        if open_alert is not None:
            open_alert.cleared_at, open_alert.cleared_by = now, "superseded by the pause"
        alert = JourneyAlert(journey_id=journey.id, level="paused", raised_at=now, **figures)
        audit_log.write(db, actor=ACTOR, action="journey.auto_pause", target=f"journey:{journey.id}", now=now,
                        threshold=ws.complaint_pause_percent, **figures)
        log.warning("journey %s (%s) paused: complaint rate %.3f%% (%d of %d sent) reached %.3f%%", journey.id,
                    journey.name, rate.percent, rate.complaints, rate.sent, ws.complaint_pause_percent)
    elif rate.percent >= ws.complaint_warn_percent and open_alert is None:
        alert = JourneyAlert(journey_id=journey.id, level="warning", raised_at=now, **figures)
        audit_log.write(db, actor=ACTOR, action="journey.complaint_warning", target=f"journey:{journey.id}",
                        now=now, threshold=ws.complaint_warn_percent, **figures)
        log.warning("journey %s (%s): complaint rate %.3f%% (%d of %d sent) reached the warning level %.3f%%",
                    journey.id, journey.name, rate.percent, rate.complaints, rate.sent, ws.complaint_warn_percent)
    else:
        return None
    db.add(alert)
    return alert


def open_alerts(db: Session) -> list[tuple[JourneyAlert, str]]:
    """Alerts nobody has cleared, newest first, with the journey's name (the admins' banner)."""
    return list(db.execute(select(JourneyAlert, Journey.name).join(Journey, Journey.id == JourneyAlert.journey_id)
                           .where(JourneyAlert.cleared_at.is_(None))
                           .order_by(JourneyAlert.raised_at.desc())).all())


def clear(db: Session, alert_id: int, *, actor: str, actor_id: int | None, now: datetime) -> JourneyAlert:
    """Dismiss an alert: the rate is counted afresh from now (the journey stays as it is)."""
    from app.errors import NotFound

    alert = db.get(JourneyAlert, alert_id)
    if alert is None:
        raise NotFound(f"No alert {alert_id}.")
    if alert.cleared_at is None:
        alert.cleared_at, alert.cleared_by = now, actor
        audit_log.write(db, actor=actor, actor_id=actor_id, action="journey.alert_dismiss",
                        target=f"journey:{alert.journey_id}", now=now, level=alert.level, rate=alert.rate)
    db.flush()
    return alert
