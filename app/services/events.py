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
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Contact, Enrollment, Event, Journey, JourneyStatus, JourneyVersion, SubscriptionStatus
from app.services.enrollment import Applied, Batch, enroll
from app.services.facts import facts_for
from app.services.versions import latest_versions, runnable
from journeys.addresses import parse_address
from journeys.errors import AddressError, JourneyError
from journeys.interpreter import advance
from journeys.metrics import ORDER_EVENTS
from journeys.state import EnrollmentState
from journeys.state import Event as CoreEvent
from journeys.timing import is_valid_zone, parse_timestamp

#: Events one processing job handles before it commits and goes on.
BATCH = 200
CONSENT = {s.value for s in SubscriptionStatus}


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = None
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=100)
    timezone: str | None = None
    locale: str | None = Field(default=None, max_length=35)
    consent: dict[str, str] = Field(default_factory=dict)

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else parse_address(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Warsaw")
        return value

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: dict[str, str]) -> dict[str, str]:
        for category, status in value.items():
            if category != "marketing" or status not in CONSENT:
                raise ValueError(f"consent must be {{\"marketing\": one of {', '.join(sorted(CONSENT))}}}")
        return value


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/-]+$")
    contact: ContactIn
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: str | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("occurred_at")
    @classmethod
    def _moment(cls, value: str | None) -> str | None:
        if value is not None and parse_timestamp(value) is None:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp with a time zone")
        return value


@dataclass(frozen=True)
class Ingested:
    event_id: int
    duplicate: bool


def parse(data: Any) -> EventIn:
    """An EventIn, or ValidationFailed naming the first wrong field."""
    try:
        parsed = EventIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationFailed(f"{where}: {first['msg']}", field=where) from None
    if parsed.contact.email is None and parsed.contact.external_id is None:
        raise ValidationFailed("contact: give an email or an external_id", field="contact")
    return parsed


def ingest(db: Session, data: EventIn, *, source: str, now: datetime,
           idempotency_key: str | None = None) -> Ingested:
    """Store the event (commits); a repeated idempotency key returns the first one."""
    key = data.idempotency_key or idempotency_key
    if key:
        known = db.scalar(select(Event.id).where(Event.idempotency_key == key))
        if known is not None:
            return Ingested(known, True)
    occurred = parse_timestamp(data.occurred_at) if data.occurred_at else now
    row = Event(name=data.event, properties=data.properties, occurred_at=occurred, received_at=now,
                source=source, idempotency_key=key, contact=data.contact.model_dump(exclude_none=True))
    db.add(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()  # the same key arrived concurrently: the other one won
        known = db.scalar(select(Event.id).where(Event.idempotency_key == key))
        if known is None:
            raise
        return Ingested(known, True)
    return Ingested(row.id, False)


def pending(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Event).where(Event.processed_at.is_(None))) or 0


def process_pending(db: Session, now: datetime, *, limit: int = BATCH) -> Applied:
    """Process up to `limit` unprocessed events in arrival order; commits once."""
    events = list(db.scalars(select(Event).where(Event.processed_at.is_(None)).order_by(Event.id)
                             .limit(limit).with_for_update(skip_locked=True)))
    applied = Applied()
    for event in events:
        try:
            with db.begin_nested():
                applied.extend(process_one(db, event, now))
        except (JourneyError, ValueError, ValidationFailed) as exc:
            event.error = str(exc)[:2000]
        event.processed_at = now
    db.commit()
    return applied


def process_one(db: Session, event: Event, now: datetime) -> Applied:
    contact = upsert_contact(db, event.contact or {}, now)
    event.contact_id = contact.id
    if event.name in ORDER_EVENTS:
        _count_order(contact, event)
    stimulus = CoreEvent(event.name, event.occurred_at, dict(event.properties or {}))
    facts = facts_for(db, contact, now)
    batch = Batch(now)
    # populate_existing: earlier events of this job may have moved these rows with set-based writes.
    waiting = db.scalars(select(Enrollment).join(Journey, Journey.id == Enrollment.journey_id).where(
        Enrollment.contact_id == contact.id, Enrollment.status == "waiting",
        Journey.status == JourneyStatus.active).order_by(Enrollment.id)
        .execution_options(populate_existing=True)).all()
    for row in waiting:
        version = db.get(JourneyVersion, row.version_id)
        decision = advance(runnable(version), EnrollmentState.from_dict(row.state), facts, stimulus, now)
        if decision.changed:
            batch.add(db, row.id, row.step, decision, contact.id, facts)
    applied = batch.write(db)  # first: an enrollment this event ends may admit a new one
    entries = Batch(now)
    for version in latest_versions(db):
        enroll(db, entries, version, contact, facts, stimulus, event_id=event.id)
    return applied.extend(entries.write(db))


def upsert_contact(db: Session, data: dict[str, Any], now: datetime) -> Contact:
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
    marketing = (data.get("consent") or {}).get("marketing")
    if marketing:
        contact.subscription_status = SubscriptionStatus(marketing)
    contact.updated_at = now
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
