"""Enroll contacts and store what the core decided, effects included, in one transaction.

The caller owns the transaction: the enrollment's new state, its trace, the
message rows of its sends and its contact updates commit together or not at
all. Message rows carry the core's unique key (enrollment:node:visit), so a
step that is somehow applied twice still makes one email. Delivery jobs are
enqueued by the caller after the commit, with the ids this returns.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Contact, Enrollment, EnrollmentStep, JourneyVersion, Message, Template, TemplateVersion
from app.services.versions import runnable
from journeys.effects import CallWebhook, RecordGoal, SendEmail, UpdateContact
from journeys.interpreter import Decision, PastEnrollment, admission, start
from journeys.state import ContactFacts, EnrollmentState, Event, Policy
from journeys.timing import isoformat

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """What a stored decision left for after the commit."""
    messages: list[int] = field(default_factory=list)


def history(db: Session, journey_id: int, contact_id: int) -> list[PastEnrollment]:
    rows = db.execute(select(Enrollment.entered_at, Enrollment.status).where(
        Enrollment.journey_id == journey_id, Enrollment.contact_id == contact_id))
    return [PastEnrollment(entered, status in ("completed", "exited")) for entered, status in rows]


def enroll(db: Session, version: JourneyVersion, contact: Contact, facts: ContactFacts, event: Event,
           now: datetime, *, event_id: int | None = None, policy: Policy = Policy()) -> tuple[str | None, Applied]:
    """Enroll when the journey admits the contact: (refusal reason or None, applied)."""
    journey = runnable(version)
    reason = admission(journey, facts, event, now, history(db, version.journey_id, contact.id))
    if reason is not None:
        return reason, Applied()
    row = Enrollment(journey_id=version.journey_id, version_id=version.id, contact_id=contact.id,
                     trigger_event_id=event_id, status="active", node=journey.trigger, state={},
                     step=0, entered_at=now, updated_at=now)
    db.add(row)
    db.flush()  # the id names the enrollment in every effect key
    decision = start(journey, facts, event, now, key=str(row.id), policy=policy)
    return None, store(db, row, decision, contact, now)


def store(db: Session, row: Enrollment, decision: Decision, contact: Contact, now: datetime) -> Applied:
    state: EnrollmentState = decision.state
    row.status, row.node = state.status, state.node
    row.wake_at, row.waiting_for = state.wake_at, state.waiting_for
    row.state, row.holdout = state.as_dict(), state.holdout
    row.step += 1
    row.updated_at, row.claimed_until = now, None
    if state.is_finished and row.exited_at is None:
        row.exited_at, row.exit_reason = now, state.exit_reason or ("completed" if state.status == "completed" else None)
    db.add_all([EnrollmentStep(enrollment_id=row.id, at=step.at, node=step.node, outcome=step.outcome,
                               reason=step.reason, detail=_detail(step)) for step in decision.trace])
    applied = Applied()
    for effect in decision.effects:
        if isinstance(effect, SendEmail):
            message = _message(db, row, contact, effect, now)
            if message is not None:
                applied.messages.append(message)
        elif isinstance(effect, UpdateContact):
            _update_contact(contact, effect, now)
        elif isinstance(effect, CallWebhook):
            log.warning("enrollment %s: webhook node %s is not delivered yet (no outgoing webhooks "
                        "in this release)", row.id, effect.node)
        elif isinstance(effect, RecordGoal):
            pass  # the trace's goal_reached step is the record; analytics read it
    return applied


def _detail(step) -> dict | None:  # type: ignore[no-untyped-def]
    detail = {}
    if step.port is not None:
        detail["port"] = step.port
    if step.until is not None:
        detail["until"] = isoformat(step.until)
    if step.details:
        detail.update({k: v for k, v in step.details.items() if isinstance(v, (str, int, float, bool))})
    return detail or None


def _message(db: Session, row: Enrollment, contact: Contact, effect: SendEmail, now: datetime) -> int | None:
    if db.scalar(select(Message.id).where(Message.key == effect.key)) is not None:
        return None  # this step was stored before: the email exists already
    version_id = db.scalar(
        select(TemplateVersion.id).join(Template, Template.id == TemplateVersion.template_id)
        .where(Template.slug == effect.template).order_by(TemplateVersion.number.desc()).limit(1))
    message = Message(key=effect.key, contact_id=contact.id, enrollment_id=row.id, node=effect.node,
                      template_version_id=version_id, variant=effect.variant, category=effect.category,
                      status="queued", attempts=0, to_email=contact.email, created_at=now, updated_at=now)
    if version_id is None:
        message.status, message.last_error = "failed", f"template {effect.template!r} does not exist"
    db.add(message)
    db.flush()
    return message.id if message.status == "queued" else None


def _update_contact(contact: Contact, effect: UpdateContact, now: datetime) -> None:
    if effect.set:
        contact.attributes = {**(contact.attributes or {}), **effect.set}
    tags = set(contact.tags or ())
    if effect.add_tags or effect.remove_tags:
        contact.tags = sorted((tags | set(effect.add_tags)) - set(effect.remove_tags))
    contact.updated_at = now


def waiting_count(db: Session, journey_id: int) -> int:
    return db.scalar(select(func.count()).select_from(Enrollment).where(
        Enrollment.journey_id == journey_id, Enrollment.status == "waiting")) or 0
