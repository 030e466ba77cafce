"""Enroll contacts and store what the core decided, effects included, in one transaction.

Decisions are collected in a `Batch` and written with a few set-based
statements: the enrollments' new state (guarded by their step counter, so two
jobs that raced for one enrollment cannot both write), their trace, the
message rows of their sends, the webhook call rows of their webhook nodes,
and contact updates. The caller commits; the message and call ids it gets
back are for delivery jobs enqueued after the commit. Both kinds of row carry
the core's unique key (enrollment:node:visit): even a decision applied twice
cannot make a second email or a second call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Update, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from app.models import (Contact, Enrollment, EnrollmentStep, JourneyVersion, Message, Template, TemplateVersion,
                        WebhookCall)
from app.services import bulk, webhook_calls
from app.services.versions import runnable
from journeys.effects import CallWebhook, RecordGoal, SendEmail, UpdateContact
from journeys.interpreter import Decision, PastEnrollment, TraceStep, admission, start
from journeys.state import ContactFacts, EnrollmentState, Event, Policy
from journeys.timing import isoformat


_E, _S = Enrollment.__table__, EnrollmentStep.__table__
#: What a step from one rest to the next changes, the commonest step. Every indexed column named in
#: SET costs SQLite an index update even when its value is unchanged, so such a step names only these.
_RESTING = ("status", "node", "wake_at", "state", "step", "updated_at", "claimed_until")


def _moving(columns: tuple[str, ...]) -> Update:
    """An enrollment's new state, written only if no other job moved it first (its step counter)."""
    return update(_E).where(_E.c.id == bindparam("b_id"), _E.c.step == bindparam("b_step")).values(
        {name: bindparam(name) for name in columns})


_MOVE = _moving(_RESTING + ("waiting_for", "holdout", "exited_at", "exit_reason"))
_REST = _moving(_RESTING)
_C = Contact.__table__
#: What an update_contact node changed.
_CONTACT = update(_C).where(_C.c.id == bindparam("b_id")).values(
    {name: bindparam(name) for name in ("attributes", "tags", "updated_at")})
_TRACE = insert(_S).values({name: bindparam(name) for name in ("enrollment_id", "at", "node", "outcome", "reason",
                                                                "detail")})


class ConcurrentUpdate(Exception):
    """Another job moved one of these enrollments first: this batch must roll back."""


@dataclass
class Applied:
    """What stored decisions left for after the commit."""
    messages: list[int] = field(default_factory=list)
    webhooks: list[int] = field(default_factory=list)

    def extend(self, other: Applied) -> Applied:
        self.messages += other.messages
        self.webhooks += other.webhooks
        return self


@dataclass
class Batch:
    """Decisions waiting to be written together."""
    now: datetime
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    rests: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    _templates: dict[str, int | None] = field(default_factory=dict)

    def add(self, db: Session, ident: int, step: int, decision: Decision, contact_id: int,
            facts: ContactFacts, *, before: EnrollmentState | None = None) -> None:
        """`facts` as the core left them: an update_contact node changed them in the walk.
        `before`, the state the step started from, lets a step from rest to rest write less."""
        state = decision.state
        finished = state.is_finished
        row = {"b_id": ident, "b_step": step, "status": state.status, "node": state.node, "wake_at": state.wake_at,
               "state": state.as_dict(), "step": step + 1, "updated_at": self.now, "claimed_until": None}
        if (before is not None and not finished and state.waiting_for == before.waiting_for
                and state.holdout == before.holdout):
            self.rests.append(row)
        else:
            row.update(waiting_for=state.waiting_for, holdout=state.holdout,
                       exited_at=self.now if finished else None,
                       exit_reason=(state.exit_reason or state.status) if finished else None)
            self.enrollments.append(row)
        self.steps += [_step_row(ident, s) for s in decision.trace]
        for effect in decision.effects:
            if isinstance(effect, SendEmail):
                self.messages.append(self._message(db, ident, contact_id, facts.email, effect))
            elif isinstance(effect, UpdateContact):
                self.contacts[contact_id] = {"b_id": contact_id, "attributes": dict(facts.attributes),
                                             "tags": sorted(facts.tags), "updated_at": self.now}
            elif isinstance(effect, CallWebhook):
                # `facts` as the walk left them: an update_contact on this path shows in the body.
                self.webhooks.append(webhook_calls.row(effect, ident, contact_id, facts, state.event, self.now))
            elif isinstance(effect, RecordGoal):
                pass  # the trace's goal_reached step is the record; analytics read it

    def write(self, db: Session) -> Applied:
        applied = Applied()
        moved = bulk.executemany(db, _MOVE, self.enrollments) + bulk.executemany(db, _REST, self.rests)
        if moved != len(self.enrollments) + len(self.rests):
            raise ConcurrentUpdate(f"{len(self.enrollments) + len(self.rests) - moved} enrollment(s) were moved "
                                   "by another job")
        bulk.executemany(db, _TRACE, self.steps)
        bulk.executemany(db, _CONTACT, list(self.contacts.values()))
        queued = [m for m in self.messages if m["status"] == "queued"]
        if self.messages:
            ids = db.scalars(insert(Message).returning(Message.id, sort_by_parameter_order=True),
                             self.messages).all()
            applied.messages = [i for i, m in zip(ids, self.messages) if m["status"] == "queued"]
            assert len(applied.messages) == len(queued)
        if self.webhooks:
            ids = db.scalars(insert(WebhookCall).returning(WebhookCall.id, sort_by_parameter_order=True),
                             self.webhooks).all()
            applied.webhooks = [i for i, c in zip(ids, self.webhooks) if c["status"] == "queued"]
        return applied

    def _message(self, db: Session, ident: int, contact_id: int, email: str, effect: SendEmail) -> dict[str, Any]:
        if effect.template not in self._templates:
            self._templates[effect.template] = db.scalar(
                select(TemplateVersion.id).join(Template, Template.id == TemplateVersion.template_id)
                .where(Template.slug == effect.template).order_by(TemplateVersion.number.desc()).limit(1))
        version_id = self._templates[effect.template]
        return {"key": effect.key, "contact_id": contact_id, "enrollment_id": ident, "node": effect.node,
                "template_version_id": version_id, "variant": effect.variant, "category": effect.category,
                "status": "queued" if version_id else "failed", "attempts": 0, "to_email": email,
                "subject": "", "created_at": self.now, "updated_at": self.now,
                "last_error": None if version_id else f"template {effect.template!r} does not exist"}


def history(db: Session, journey_id: int, contact_id: int) -> list[PastEnrollment]:
    rows = db.execute(select(Enrollment.entered_at, Enrollment.status).where(
        Enrollment.journey_id == journey_id, Enrollment.contact_id == contact_id))
    return [PastEnrollment(entered, status in ("completed", "exited")) for entered, status in rows]


def enroll(db: Session, batch: Batch, version: JourneyVersion, contact: Contact, facts: ContactFacts,
           event: Event, *, event_id: int | None = None, policy: Policy = Policy()) -> str | None:
    """Enroll when the journey admits the contact; returns the refusal reason, or None."""
    journey = runnable(version)
    now = batch.now
    reason = admission(journey, facts, event, now, history(db, version.journey_id, contact.id))
    if reason is not None:
        return reason
    row = Enrollment(journey_id=version.journey_id, version_id=version.id, contact_id=contact.id,
                     trigger_event_id=event_id, status="active", node=journey.trigger, state={},
                     step=0, entered_at=now, updated_at=now)
    db.add(row)
    db.flush()  # the id names the enrollment in every effect key
    batch.add(db, row.id, 0, start(journey, facts, event, now, key=str(row.id), policy=policy), contact.id, facts)
    return None


def _step_row(ident: int, step: TraceStep) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if step.port is not None:
        detail["port"] = step.port
    if step.until is not None:
        detail["until"] = isoformat(step.until)
    if step.details:
        detail.update({k: v for k, v in step.details.items() if isinstance(v, (str, int, float, bool))})
    return {"enrollment_id": ident, "at": step.at, "node": step.node, "outcome": step.outcome,
            "reason": step.reason, "detail": detail or None}


def waiting_count(db: Session, journey_id: int) -> int:
    return db.scalar(select(func.count()).select_from(Enrollment).where(
        Enrollment.journey_id == journey_id, Enrollment.status == "waiting")) or 0
