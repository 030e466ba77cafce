"""Contacts: upsert (the `contact` object an event carries), find and page, read one in full.

Export (`GET /contacts/<id>/export`) and erasure (`DELETE /contacts/<id>`) are in app/api/privacy.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import IntegrityError

from app import clock
from app.api import bp
from app.api.routing import ApiCall, operation
from app.db import db
from app.errors import ValidationFailed
from app.models import Contact, Event, Message
from app.services import contacts, events
from app.services.contacts import ContactDetail
from app.services.event_input import ContactIn, problems_of
from app.services.facts import metrics_of
from journeys.errors import AddressError

TAG = "Contacts"
Status = Literal["subscribed", "unconfirmed", "unsubscribed", "never_subscribed"]


class ConsentOut(BaseModel):
    marketing: Status = Field(description="Marketing consent.")
    suppressed: str | None = Field(description="Why nothing at all is sent to this address "
                                               "(bounce, complaint, erasure, manual), or null.")


class MetricsOut(BaseModel):
    orders_count: int
    total_spent: float
    last_order_at: str | None = Field(description="ISO 8601.")


class ContactOut(BaseModel):
    id: int
    email: str
    external_id: str | None
    attributes: dict[str, Any]
    tags: list[str]
    timezone: str | None
    locale: str | None
    status: Literal["subscribed", "unconfirmed", "unsubscribed", "never_subscribed", "suppressed"] = Field(
        description="suppressed (gets nothing), else the marketing consent.")
    consent: ConsentOut
    metrics: MetricsOut
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contact: Contact, suppressed: str | None, **extra: Any) -> Any:
        marketing = contact.subscription_status.value
        return cls(id=contact.id, email=contact.email, external_id=contact.external_id,
                   attributes=dict(contact.attributes or {}), tags=list(contact.tags or []),
                   timezone=contact.timezone, locale=contact.locale,
                   status="suppressed" if suppressed else marketing,  # type: ignore[arg-type]
                   consent=ConsentOut(marketing=marketing, suppressed=suppressed),  # type: ignore[arg-type]
                   metrics=MetricsOut(**metrics_of(contact)), created_at=contact.created_at,
                   updated_at=contact.updated_at, **extra)


class ContactList(BaseModel):
    items: list[ContactOut]
    page: int
    per_page: int
    total: int
    has_next: bool


class EventOut(BaseModel):
    id: int
    event: str
    properties: dict[str, Any]
    occurred_at: datetime
    received_at: datetime
    source: str
    processed_at: datetime | None
    error: str | None = Field(description="Why processing refused the event, if it did.")

    @classmethod
    def of(cls, row: Event) -> EventOut:
        return cls(id=row.id, event=row.name, properties=dict(row.properties or {}), occurred_at=row.occurred_at,
                   received_at=row.received_at, source=row.source, processed_at=row.processed_at, error=row.error)


class StepOut(BaseModel):
    at: datetime
    node: str
    outcome: str = Field(description="entered, waiting, resumed, passed, sent, deferred, skipped, "
                                     "goal_reached, exited or completed (docs/core.md).")
    reason: str | None
    detail: dict[str, Any] | None


class EnrollmentOut(BaseModel):
    id: int
    journey_id: int
    journey: str = Field(description="The journey's name.")
    version: int
    status: Literal["active", "waiting", "completed", "exited"]
    node: str | None
    entered_at: datetime
    since: datetime = Field(description="When it last moved.")
    wake_at: datetime | None
    waiting_for: str | None
    exit_reason: str | None
    holdout: bool
    steps: list[StepOut] = Field(description="Its trace, oldest first (at most the newest 100).")


class MessageOut(BaseModel):
    id: int
    enrollment_id: int | None
    node: str | None
    template: str | None = Field(description="The template's slug.")
    template_version: int | None
    variant: str | None
    category: str
    status: str = Field(description="queued, sending, sent, failed, bounced, suppressed or ambiguous.")
    to: str
    subject: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: Message, template: tuple[str, int] | None) -> MessageOut:
        return cls(id=row.id, enrollment_id=row.enrollment_id, node=row.node,
                   template=template[0] if template else None, template_version=template[1] if template else None,
                   variant=row.variant, category=row.category, status=row.status, to=row.to_email,
                   subject=row.subject or "", attempts=row.attempts or 0, last_error=row.last_error,
                   created_at=row.created_at, sent_at=row.sent_at)


class ContactDetailOut(ContactOut):
    events: list[EventOut] = Field(description="Newest first, at most 50.")
    enrollments: list[EnrollmentOut] = Field(description="Every journey the contact entered, newest first.")
    messages: list[MessageOut] = Field(description="Newest first, at most 50.")


class ContactQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=320, description="This address exactly (any case).")
    q: str | None = Field(default=None, max_length=320, description="Part of the email, or the whole external id.")
    status: Status | None = Field(default=None, description="Marketing consent.")
    tag: str | None = Field(default=None, min_length=1, max_length=100, description="Contacts with this tag.")
    attribute: str | None = Field(default=None, max_length=400, pattern=r"^[^=]+=",
                                  description="name=value: a custom attribute equal to value (as text).")
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=contacts.PAGE_SIZE, ge=1, le=200)


def detail_out(detail: ContactDetail) -> ContactDetailOut:
    return ContactDetailOut.of(
        detail.contact, detail.consent.suppressed,
        events=[EventOut.of(e) for e in detail.events],
        enrollments=[EnrollmentOut(id=e.id, journey_id=e.journey_id, journey=e.journey_name, version=e.version,
                                   status=e.status, node=e.node, entered_at=e.entered_at, since=e.since,  # type: ignore[arg-type]
                                   wake_at=e.wake_at, waiting_for=e.waiting_for, exit_reason=e.exit_reason,
                                   holdout=e.holdout,
                                   steps=[StepOut(at=s.at, node=s.node, outcome=s.outcome, reason=s.reason,
                                                  detail=s.detail) for s in e.steps])
                     for e in detail.enrollments],
        messages=[MessageOut.of(m, detail.templates.get(m.template_version_id or -1)) for m in detail.messages])


@operation(bp, "POST", "/contacts", summary="Create or update a contact", tag=TAG, scope="contacts:write",
           body=ContactIn, status=200, result=ContactOut, result_description="Updated.",
           also=((201, "Created."),),
           description="The same contact object an event carries. The contact is found by external_id, then "
                       "email; attributes are merged, tags added, timezone, locale and consent set when given. "
                       "A new contact needs an email.")
def upsert_contact(call: ApiCall) -> ResponseReturnValue:
    data = _contact_in(call.body)
    try:
        return _upsert(data)
    except IntegrityError:
        return _upsert(data)  # another request created this contact meanwhile: now it is an update


def _upsert(data: ContactIn) -> ResponseReturnValue:
    try:
        with db.transaction() as s:
            existing = contacts.find(s, email=data.email, external_id=data.external_id)
            contact = events.upsert_contact(s, data.model_dump(exclude_none=True), clock.now())
            suppressed = contacts.suppressions(s, [contact]).get(contact.id)
    except AddressError as exc:
        raise ValidationFailed(f"{exc}.", field="email") from None
    return ContactOut.of(contact, suppressed), 200 if existing else 201


def _contact_in(body: Any) -> ContactIn:
    try:
        return ContactIn.model_validate(body)
    except ValidationError as exc:
        problems = problems_of(exc)
        raise ValidationFailed(f"{problems[0].pointer or 'body'}: {problems[0].detail}", errors=problems) from None


@operation(bp, "GET", "/contacts", summary="Find contacts", tag=TAG, scope="contacts:read", query=ContactQuery,
           result=ContactList, description="Newest first, a page at a time. ?email= finds one address.")
def list_contacts(call: ApiCall) -> ResponseReturnValue:
    q: ContactQuery = call.query
    attribute = tuple(q.attribute.split("=", 1)) if q.attribute else None
    page = contacts.search(db.session, query=q.q or "", status=q.status, tag=q.tag, email=q.email,
                           attribute=attribute, page=q.page, size=q.per_page)  # type: ignore[arg-type]
    suppressed = contacts.suppressions(db.session, page.rows)
    return ContactList(items=[ContactOut.of(c, suppressed.get(c.id)) for c in page.rows], page=page.number,
                       per_page=page.size, total=page.total, has_next=page.has_next)


@operation(bp, "GET", "/contacts/<int:contact_id>", summary="Read a contact", tag=TAG, scope="contacts:read",
           result=ContactDetailOut, description="The contact with its consent, events, journeys (with the trace "
                                                "of each) and messages.")
def get_contact(call: ApiCall, contact_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        return detail_out(contacts.contact_detail(s, contact_id, viewer=call.source, now=clock.now()))

