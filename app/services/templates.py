"""Email templates: created and versioned (a version never changes once written), checked
before they are stored, and rendered for a preview exactly as a send renders them.

The input shape, `TemplateIn`, is the templates API body and (without the slug, which is
the file's name) a template file of `journeys simulate --templates` and `journeys export`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import AuditEntry, Contact, Template, TemplateVersion, User
from app.services import workspace
from app.services.event_input import Text, problems_of
from app.services.facts import facts_for
from journeys.errors import SimulationError, TemplateError
from journeys.personalisation import template_context
from app.services.template_checks import check_source, problem_of, unbalanced_tag, warnings_for  # noqa: F401
from journeys.rendering import RenderedEmail, Renderer, TemplateSource, template_has_unsubscribe_link
from journeys.simulator import contact_from_json

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$"
#: Characters of MJML a template may have (the API's body limit is the other bound).
MJML_MAX = 500_000
Category = Literal["marketing", "transactional"]

#: Who a preview is for when no contact is named: every built-in set, one custom attribute.
SAMPLE_CONTACT: dict[str, Any] = {"email": "ana@example.com", "timezone": "Europe/Warsaw", "locale": "pl-PL",
                                  "attributes": {"first_name": "Ana"}, "tags": ["sample"],
                                  "consent": {"marketing": "subscribed"}}
#: Previews carry links that lead nowhere: clicking one in a preview must not unsubscribe anybody.
PREVIEW_LINK = "{base}/preview-link-{what}"



def _storable(value: str) -> str:
    # Line breaks and tabs are fine in a template; NUL (PostgreSQL refuses it) and lone surrogates are not.
    if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


Source = Annotated[str, AfterValidator(_storable)]
_renderer = Renderer()


class TemplateIn(BaseModel):
    """A template as a script (or a template file) gives it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "slug": "welcome", "subject": "Welcome, {{ contact.first_name|default('there') }}",
        "preheader": "Glad you are here", "category": "marketing",
        "mjml": "<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ contact.first_name }}</mj-text>"
                "<mj-text><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></mj-text></mj-column>"
                "</mj-section></mj-body></mjml>"}]})
    slug: str = Field(pattern=SLUG_PATTERN, min_length=1, max_length=100,
                      description="The template's name in journeys (send nodes): lowercase letters, digits "
                                  "and dashes, e.g. cart-reminder. Fixed once created.")
    subject: Source = Field(min_length=1, max_length=500, description="Jinja; rendered on one line.")
    preheader: Source = Field(default="", max_length=500, description="The inbox preview text (Jinja).")
    mjml: Source = Field(min_length=1, max_length=MJML_MAX, description="The body: MJML with Jinja.")
    category: Category = Field(default="marketing", description="Marketing mail needs consent and an "
                               "unsubscribe link; transactional mail (receipts) needs neither.")
    name: Text | None = Field(default=None, min_length=1, max_length=200,
                              description="A name for people; default: the slug.")
    tracking: bool = Field(default=True, description="Rewrite links for click tracking.")


@dataclass(frozen=True)
class TemplateSummary:
    id: int
    slug: str
    name: str
    category: str
    tracking: bool
    archived: bool
    version: int
    subject: str
    has_unsubscribe_link: bool
    created_at: datetime
    updated_at: datetime


def parse(data: Any, at: tuple[str | int, ...] = ()) -> TemplateIn:
    """A TemplateIn from JSON, or ValidationFailed with a pointer per bad field."""
    try:
        return TemplateIn.model_validate(data)
    except ValidationError as exc:
        problems = problems_of(exc, at)
        raise ValidationFailed(f"{problems[0].pointer or 'body'}: {problems[0].detail}",
                               errors=problems) from None


def _check(data: TemplateIn) -> None:
    problems = check_source(data.subject, data.preheader, data.mjml)
    if problems:
        raise ValidationFailed(f"The template does not compile: {problems[0].pointer[1:]} "  # type: ignore[index]
                               f"{problems[0].detail}.", errors=problems)


def create_template(db: Session, data: TemplateIn, *, user_id: int | None, now: datetime,
                    by: str | None = None) -> Template:
    """A new template with version 1 (flushed); Conflict when the slug is taken."""
    _check(data)
    if db.scalar(select(Template.id).where(Template.slug == data.slug)) is not None:
        raise Conflict(f"A template with the slug {data.slug!r} exists already: update it with "
                       f"PUT /templates/{data.slug}, or choose another slug.", field="slug")
    template = Template(slug=data.slug, name=data.name or data.slug, category=data.category,
                        tracking=data.tracking, archived=False, created_at=now, updated_at=now)
    db.add(template)
    db.flush()
    _add_version(db, template, data, 1, user_id, now)
    _audit(db, user_id, by, "template.create", template, now, version=1)
    return template


def update_template(db: Session, template: Template, data: TemplateIn, *, user_id: int | None,
                    now: datetime, by: str | None = None) -> TemplateVersion:
    """A new version when subject, preheader or MJML changed; name, category, tracking in place.

    Returns the version now current (the old one when the content is unchanged)."""
    if data.slug != template.slug:
        raise ValidationFailed(f"A template's slug is fixed (journeys name it): this is {template.slug!r}, "
                               f"not {data.slug!r}.", field="slug")
    _check(data)
    current = latest_version(db, template)
    changed = (data.subject, data.preheader, data.mjml) != (current.subject, current.preheader or "", current.mjml)
    settings = {"name": data.name or template.name, "category": data.category, "tracking": data.tracking}
    moved = {k: v for k, v in settings.items() if getattr(template, k) != v}
    if not changed and not moved:
        return current
    for key, value in moved.items():
        setattr(template, key, value)
    template.updated_at = now
    version = _add_version(db, template, data, current.number + 1, user_id, now) if changed else current
    _audit(db, user_id, by, "template.update", template, now, version=version.number,
           new_version=changed, changed=sorted(moved))
    return version


def _add_version(db: Session, template: Template, data: TemplateIn, number: int, user_id: int | None,
                 now: datetime) -> TemplateVersion:
    version = TemplateVersion(template_id=template.id, number=number, subject=data.subject,
                              preheader=data.preheader, mjml=data.mjml, created_by_id=user_id, created_at=now)
    db.add(version)
    db.flush()
    return version


def set_archived(db: Session, template: Template, archived: bool, *, user_id: int | None, now: datetime,
                 by: str | None = None) -> Template:
    """An archived template is hidden from lists and refused by validation for new publishes."""
    if template.archived != archived:
        template.archived, template.updated_at = archived, now
        _audit(db, user_id, by, "template.archive" if archived else "template.unarchive", template, now)
    return template


def get_template(db: Session, slug: str) -> Template:
    template = db.scalar(select(Template).where(Template.slug == slug))
    if template is None:
        raise NotFound(f"No template has the slug {slug!r}.")
    return template


def get_template_by_id(db: Session, template_id: int) -> Template:
    template = db.get(Template, template_id)
    if template is None:
        raise NotFound(f"No template {template_id}.")
    return template


def latest_version(db: Session, template: Template) -> TemplateVersion:
    version = db.scalar(select(TemplateVersion).where(TemplateVersion.template_id == template.id)
                        .order_by(TemplateVersion.number.desc()).limit(1))
    if version is None:  # every template is created with version 1
        raise NotFound(f"Template {template.slug!r} has no version.")
    return version


def get_version(db: Session, template: Template, number: int) -> TemplateVersion:
    version = db.scalar(select(TemplateVersion).where(TemplateVersion.template_id == template.id,
                                                      TemplateVersion.number == number))
    if version is None:
        raise NotFound(f"Template {template.slug!r} has no version {number}.")
    return version


def versions_of(db: Session, template: Template) -> list[TemplateVersion]:
    """Newest first."""
    return list(db.scalars(select(TemplateVersion).where(TemplateVersion.template_id == template.id)
                           .order_by(TemplateVersion.number.desc())))


def list_templates(db: Session, *, include_archived: bool = False) -> list[TemplateSummary]:
    """Every template with its current version, by slug."""
    newest = (select(TemplateVersion.template_id, func.max(TemplateVersion.number).label("n"))
              .group_by(TemplateVersion.template_id).subquery())
    stmt = (select(Template, TemplateVersion)
            .join(newest, newest.c.template_id == Template.id)
            .join(TemplateVersion, (TemplateVersion.template_id == Template.id)
                  & (TemplateVersion.number == newest.c.n)).order_by(Template.slug))
    if not include_archived:
        stmt = stmt.where(Template.archived.is_(False))
    return [TemplateSummary(t.id, t.slug, t.name, t.category, t.tracking, t.archived, v.number, v.subject,
                            template_has_unsubscribe_link(v.mjml), t.created_at, t.updated_at)
            for t, v in db.execute(stmt)]


def as_input(template: Template, version: TemplateVersion) -> TemplateIn:
    """The TemplateIn that would make this version again (export, PATCH)."""
    return TemplateIn(slug=template.slug, subject=version.subject, preheader=version.preheader or "",
                      mjml=version.mjml, category=template.category,  # type: ignore[arg-type]
                      name=template.name, tracking=template.tracking)


def render_preview(db: Session, source: TemplateSource | TemplateVersion, *, contact: Contact | None,
                   sample: dict[str, Any] | None, settings: Settings,
                   now: datetime | None = None) -> RenderedEmail:
    """The email as a send would render it: for `contact`, else for sample["contact"] (or a
    built-in sample), with sample["event"] as the trigger event's properties. Links lead nowhere.

    ValidationFailed (pointer /subject, /preheader or /mjml, with the line) when it fails."""
    sample = sample or {}
    event = sample.get("event") or {}
    if not isinstance(event, dict):
        raise ValidationFailed("sample.event must be an object: the trigger event's properties.",
                               field="sample.event")
    if contact is not None:
        facts = facts_for(db, contact, now or clock.now())
    else:
        try:
            facts = contact_from_json(sample.get("contact") or SAMPLE_CONTACT)
        except SimulationError as exc:
            raise ValidationFailed(f"sample.contact: {exc}", field="sample.contact") from None
    context = template_context(facts, event,
                               unsubscribe_url=PREVIEW_LINK.format(base=settings.base_url, what="unsubscribe"),
                               preferences_url=PREVIEW_LINK.format(base=settings.base_url, what="preferences"),
                               shop=workspace.shop_context(workspace.current(db)))  # as delivery passes it
    if isinstance(source, TemplateVersion):
        source = TemplateSource(source.subject, source.mjml, source.preheader or "")
    try:
        return _renderer.render(source, context)
    except TemplateError as exc:
        problem = problem_of(exc, "mjml")
        raise ValidationFailed(f"The template does not render: {problem.pointer[1:]} "  # type: ignore[index]
                               f"{problem.detail}.", errors=[problem]) from None


def _audit(db: Session, user_id: int | None, by: str | None, action: str, template: Template,
           now: datetime, **details: Any) -> None:
    actor = by or (db.get(User, user_id).email if user_id and db.get(User, user_id) else "system")
    db.add(AuditEntry(actor_id=user_id, actor=actor, action=action, target=f"template:{template.slug}",
                      details=details, at=now))
