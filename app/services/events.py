"""Events: stored durably on arrival, then processed once, in order, by a worker.

`ingest` validates and stores an event (deduplicated by idempotency key) and
is all a webhook does before answering 202. `process_pending` runs in a job:
it upserts the contact, updates its order metrics, moves enrollments waiting
for the event (or leaving on it), and enrolls the contact in every active
journey the event triggers. The processed marker commits with those changes,
so an event is processed once even when a job runs twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Contact, Enrollment, Event, Journey, JourneyStatus, JourneyVersion
from app.services.enrollment import Applied, Batch, enroll
from app.services.event_input import ContactIn, EventIn, parse  # noqa: F401 - callers use events.parse
from app.services import consent, engagement_facts, split_winners, workspace
from app.services.facts import facts_for
from app.services.versions import latest_versions, runnable
from journeys.errors import AddressError, JourneyError
from journeys.interpreter import advance
from journeys.metrics import ORDER_EVENTS
from journeys.state import EnrollmentState, Policy
from journeys.state import Event as CoreEvent
from journeys.timing import parse_timestamp

#: Events one processing job handles before it commits and goes on.
BATCH = 200
_TABLE = Event.__table__
# Core against the table, built once: ingest runs on every API call, and the ORM's unit of work
# (or its bulk layer, for a batch of 1,000) costs more than the database does.
_INSERT_ONE = insert(_TABLE).returning(_TABLE.c.id)
_INSERT_MANY = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)


@dataclass(frozen=True)
class Ingested:
    event_id: int
    duplicate: bool


def _row(data: EventIn, key: str | None, source: str, now: datetime) -> dict[str, Any]:
    occurred = parse_timestamp(data.occurred_at) if data.occurred_at else now
    return {"name": data.event, "properties": data.properties, "occurred_at": occurred, "received_at": now,
            "source": source, "idempotency_key": key, "contact": data.contact.model_dump(exclude_none=True)}


def ingest(db: Session, data: EventIn, *, source: str, now: datetime,
           idempotency_key: str | None = None) -> Ingested:
    """Store the event (commits); a repeated idempotency key returns the first one."""
    key = data.idempotency_key or idempotency_key
    if key:
        known = db.scalar(select(Event.id).where(Event.idempotency_key == key))
        if known is not None:
            return Ingested(known, True)
    try:
        event_id = db.connection().execute(_INSERT_ONE, _row(data, key, source, now)).scalar_one()
        db.commit()
    except IntegrityError:
        db.rollback()  # the same key arrived concurrently: the other one won
        known = db.scalar(select(Event.id).where(Event.idempotency_key == key))
        if known is None:
            raise
        return Ingested(known, True)
    return Ingested(event_id, False)


def ingest_many(db: Session, items: Sequence[tuple[EventIn, str | None]], *, source: str,
                now: datetime) -> list[Ingested]:
    """Store (event, idempotency key) pairs in one transaction (commits), one result per pair.

    A key already stored, or repeated within `items`, returns the first event of that key.
    """
    for _ in range(3):
        try:
            return _insert_new(db, items, source, now)
        except IntegrityError:
            db.rollback()  # a concurrent request stored one of these keys: look them up again
    return _insert_new(db, items, source, now)


def _insert_new(db: Session, items: Sequence[tuple[EventIn, str | None]], source: str,
                now: datetime) -> list[Ingested]:
    keys = {key for _, key in items if key}
    known: dict[str, int] = {}
    if keys:
        known.update(db.execute(select(Event.idempotency_key, Event.id)
                                .where(Event.idempotency_key.in_(keys))).all())
    first: dict[str, int] = {}  # key → index of the first item carrying it
    rows, fresh = [], []
    for index, (data, key) in enumerate(items):
        if key and (key in known or key in first):
            continue
        if key:
            first[key] = index
        rows.append(_row(data, key, source, now))
        fresh.append(index)
    ids = list(db.connection().execute(_INSERT_MANY, rows).scalars()) if rows else []
    db.commit()
    stored = dict(zip(fresh, ids))
    known.update({key: stored[index] for key, index in first.items()})
    return [Ingested(stored[i], False) if i in stored else Ingested(known[key], True)  # type: ignore[index]
            for i, (_, key) in enumerate(items)]


def pending(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Event).where(Event.processed_at.is_(None))) or 0


def process_pending(db: Session, now: datetime, *, limit: int = BATCH) -> Applied:
    """Process up to `limit` unprocessed events in arrival order; commits once."""
    events = list(db.scalars(select(Event).where(Event.processed_at.is_(None)).order_by(Event.id)
                             .limit(limit).with_for_update(skip_locked=True)))
    applied = Applied()
    policy = split_winners.with_winners(db, workspace.engine_policy(workspace.current(db)))  # Settings, A/B winners
    for event in events:
        try:
            with db.begin_nested():
                applied.extend(process_one(db, event, now, policy))
        except (JourneyError, ValueError, ValidationFailed) as exc:
            event.error = str(exc)[:2000]
        event.processed_at = now
    db.commit()
    return applied


def process_one(db: Session, event: Event, now: datetime, policy: Policy | None = None) -> Applied:
    contact = upsert_contact(db, event.contact or {}, now, origin=event.source)
    event.contact_id = contact.id
    if event.name in ORDER_EVENTS:
        _count_order(contact, event)
    stimulus = CoreEvent(event.name, event.occurred_at, dict(event.properties or {}))
    facts = facts_for(db, contact, now)
    policy = policy or split_winners.with_winners(db, workspace.engine_policy(workspace.current(db)))
    batch = Batch(now)
    # populate_existing: earlier events of this job may have moved these rows with set-based writes.
    waiting = db.scalars(select(Enrollment).join(Journey, Journey.id == Enrollment.journey_id).where(
        Enrollment.contact_id == contact.id, Enrollment.status == "waiting",
        Journey.status == JourneyStatus.active).order_by(Enrollment.id)
        .execution_options(populate_existing=True)).all()
    engaged = engagement_facts.for_enrollments(db, [row.id for row in waiting])
    for row in waiting:
        version = db.get(JourneyVersion, row.version_id)
        facts.engagement = engaged.get(row.id, {})  # engagement.* is per enrollment
        before = EnrollmentState.from_dict(row.state)
        decision = advance(runnable(version), before, facts, stimulus, now, policy=policy)
        if decision.changed:
            batch.add(db, row.id, row.step, decision, contact.id, facts, before=before)
    applied = batch.write(db)  # first: an enrollment this event ends may admit a new one
    facts.engagement = {}  # a new enrollment has engaged with nothing yet
    entries = Batch(now)
    for version in latest_versions(db):
        enroll(db, entries, version, contact, facts, stimulus, event_id=event.id, policy=policy)
    return applied.extend(entries.write(db))


def upsert_contact(db: Session, data: dict[str, Any], now: datetime, *, origin: str = "api") -> Contact:
    email, external_id = data.get("email"), data.get("external_id")
    contact = None
    fresh = {"populate_existing": True}  # a batch may have written this contact with set-based SQL
    if external_id:
        contact = db.scalar(select(Contact).where(Contact.external_id == external_id).execution_options(**fresh))
    if contact is None and email:
        contact = db.scalar(select(Contact).where(Contact.email == email).execution_options(**fresh))
    if contact is None:
        if not email:
            raise AddressError(f"no contact with external_id {external_id!r} and no email to create one")
        contact = Contact(email=email, external_id=external_id, attributes={}, tags=[],
                          created_at=now, updated_at=now)
        db.add(contact)
    if external_id and contact.external_id is None:
        contact.external_id = external_id
    if data.get("attributes"):
        contact.attributes = {**(contact.attributes or {}), **data["attributes"]}
    if data.get("tags"):
        contact.tags = sorted(set(contact.tags or ()) | set(data["tags"]))
    for name in ("timezone", "locale"):
        if data.get(name):
            setattr(contact, name, data[name])
    contact.updated_at = now
    # Consent through its one service: recorded, double opt-in, never re-subscribing a suppressed address.
    consent.apply_input(db, contact, data.get("consent"), origin=origin, now=now)
    db.flush()
    return contact


def _count_order(contact: Contact, event: Event) -> None:
    total = (event.properties or {}).get("total")
    try:
        amount = Decimal(str(total)) if total is not None and not isinstance(total, bool) else Decimal(0)
    except InvalidOperation:
        amount = Decimal(0)
    contact.orders_count = (contact.orders_count or 0) + 1
    contact.total_spent = (contact.total_spent or Decimal(0)) + amount
    if contact.last_order_at is None or event.occurred_at > contact.last_order_at:
        contact.last_order_at = event.occurred_at
