"""Reading contacts: search with filters and pages, and one contact in full (its consent, events,
journeys with their trace, messages) for the contact page and the contacts API.

Contacts are written by `app/services/events.upsert_contact`, the path events take too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.models import (Contact, Enrollment, EnrollmentStep, Event, Journey, JourneyVersion, Message,
                        SubscriptionStatus, Suppression, Template, TemplateVersion, email_digest)
from app.services import audit_log

#: Contacts per page in the list.
PAGE_SIZE = 50
#: The newest this-many events and messages of a contact are shown in its detail.
DETAIL_EVENTS = 50
DETAIL_MESSAGES = 50
#: Trace steps shown per enrollment (the newest).
DETAIL_STEPS = 100


@dataclass(frozen=True)
class ContactPage:
    rows: list[Contact]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total


@dataclass(frozen=True)
class Consent:
    marketing: str
    #: Why nothing at all is sent to this address (bounce, complaint, erasure, manual), or None.
    suppressed: str | None
    suppressed_at: datetime | None = None


@dataclass(frozen=True)
class EnrollmentView:
    id: int
    journey_id: int
    journey_name: str
    version_id: int
    version: int
    status: str
    node: str | None
    since: datetime
    entered_at: datetime
    wake_at: datetime | None
    waiting_for: str | None
    exit_reason: str | None
    holdout: bool
    steps: list[EnrollmentStep] = field(default_factory=list)


@dataclass(frozen=True)
class ContactDetail:
    contact: Contact
    consent: Consent
    events: list[Event]
    enrollments: list[EnrollmentView]
    messages: list[Message]
    #: template version id → (template slug, version number), for the messages.
    templates: dict[int, tuple[str, int]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """One word for the contact: `suppressed` (gets nothing), else its marketing consent."""
        return "suppressed" if self.consent.suppressed else self.consent.marketing


def search(db: Session, *, query: str = "", status: str | None = None, tag: str | None = None,
           attribute: tuple[str, str] | None = None, email: str | None = None, page: int = 1,
           size: int = PAGE_SIZE) -> ContactPage:
    """Newest first. `query`: part of the email, or the whole external id; `attribute`: (name, value)
    compared as text; `email`: that address exactly (case-insensitive)."""
    number = max(page, 1)
    stmt = select(Contact)
    if query:
        stmt = stmt.where(or_(Contact.email.contains(query.strip().lower(), autoescape=True),
                              Contact.external_id == query.strip()))
    if email is not None:
        stmt = stmt.where(Contact.email == email.strip().lower())
    if status:
        if status not in {s.value for s in SubscriptionStatus}:
            raise ValidationFailed(f"status must be one of {', '.join(s.value for s in SubscriptionStatus)}.",
                                   field="status")
        stmt = stmt.where(Contact.subscription_status == SubscriptionStatus(status))
    if tag:
        # Tags are a JSON array written compactly by our serialiser: an element is `"tag"` in its text.
        stmt = stmt.where(cast(Contact.tags, String).contains(json.dumps(tag, ensure_ascii=False),
                                                              autoescape=True))
    if attribute:
        name, value = attribute
        stmt = stmt.where(cast(Contact.attributes[name].as_string(), String) == value)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(Contact.created_at.desc(), Contact.id.desc())
                      .limit(size).offset((number - 1) * size))
    return ContactPage(rows=list(rows), total=total, number=number, size=size)


def get_contact(db: Session, contact_id: int) -> Contact:
    contact = db.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.")
    return contact


def consent_of(db: Session, contact: Contact) -> Consent:
    row = db.scalar(select(Suppression).where(Suppression.email_hash == email_digest(contact.email)))
    return Consent(contact.subscription_status.value, row.reason if row else None, row.created_at if row else None)


def contact_detail(db: Session, contact_id: int, *, viewer: str, now: datetime,
                   viewer_id: int | None = None) -> ContactDetail:
    """Everything about one contact, newest first (NotFound when there is no such contact).

    A read of personal data: recorded in the audit log as `contact.view` by `viewer`
    (a user's email or `api:<key prefix>`), in the caller's transaction."""
    contact = get_contact(db, contact_id)
    audit_log.write(db, actor=viewer, actor_id=viewer_id, action="contact.view", target=f"contact:{contact_id}",
                    now=now)
    events = list(db.scalars(select(Event).where(Event.contact_id == contact.id)
                             .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(DETAIL_EVENTS)))
    messages = list(db.scalars(select(Message).where(Message.contact_id == contact.id)
                               .order_by(Message.created_at.desc(), Message.id.desc()).limit(DETAIL_MESSAGES)))
    version_ids = {m.template_version_id for m in messages if m.template_version_id}
    templates = {ident: (slug, number) for ident, slug, number in db.execute(
        select(TemplateVersion.id, Template.slug, TemplateVersion.number)
        .join(Template, Template.id == TemplateVersion.template_id)
        .where(TemplateVersion.id.in_(version_ids)))} if version_ids else {}
    return ContactDetail(contact, consent_of(db, contact), events, _enrollments(db, contact.id), messages,
                         templates)


def find(db: Session, *, email: str | None, external_id: str | None) -> Contact | None:
    """The contact an upsert with these keys would update (external_id first), or None."""
    found = None
    if external_id:
        found = db.scalar(select(Contact).where(Contact.external_id == external_id))
    if found is None and email:
        found = db.scalar(select(Contact).where(Contact.email == email.strip().lower()))
    return found


def suppressions(db: Session, contacts: list[Contact]) -> dict[int, str]:
    """contact id → suppression reason, for those of `contacts` that get nothing."""
    digests = {email_digest(c.email): c.id for c in contacts}
    if not digests:
        return {}
    return {digests[h]: reason for h, reason in db.execute(
        select(Suppression.email_hash, Suppression.reason).where(Suppression.email_hash.in_(list(digests))))}


def _enrollments(db: Session, contact_id: int) -> list[EnrollmentView]:
    rows = db.execute(select(Enrollment, Journey.name, JourneyVersion.number)
                      .join(Journey, Journey.id == Enrollment.journey_id)
                      .join(JourneyVersion, JourneyVersion.id == Enrollment.version_id)
                      .where(Enrollment.contact_id == contact_id)
                      .order_by(Enrollment.entered_at.desc(), Enrollment.id.desc())).all()
    steps: dict[int, list[EnrollmentStep]] = {}
    if rows:
        for step in db.scalars(select(EnrollmentStep).where(EnrollmentStep.enrollment_id.in_([e.id for e, _, _ in rows]))
                               .order_by(EnrollmentStep.at, EnrollmentStep.id)):
            steps.setdefault(step.enrollment_id, []).append(step)
    return [EnrollmentView(e.id, e.journey_id, name, e.version_id, number, e.status, e.node, e.updated_at,
                           e.entered_at, e.wake_at, e.waiting_for, e.exit_reason, e.holdout,
                           steps.get(e.id, [])[-DETAIL_STEPS:])
            for e, name, number in rows]
