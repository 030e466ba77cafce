"""Templates: create, read, new versions (PUT replaces, PATCH changes some fields), render a preview.

A body that does not compile is refused (422) with the part and line of each problem; nothing
is stored. Versions are immutable: a message names the version it rendered.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app import clock
from app.api import bp
from app.api.routing import MAX_ID, ApiCall, ProblemField, operation
from app.db import db
from app.errors import NotFound, ValidationFailed
from app.models import Template, TemplateVersion
from app.services import contacts, templates
from app.services.event_input import problems_of
from app.services.templates import SLUG_PATTERN, Category, Source, TemplateIn

TAG = "Templates"
CONFLICT = ((409, "A template with this slug exists already."),)


class VersionOut(BaseModel):
    number: int
    subject: str
    created_at: datetime


class TemplateOut(BaseModel):
    id: int
    slug: str
    name: str
    category: Category
    tracking: bool
    archived: bool
    version: int = Field(description="The current version's number; sends use it.")
    subject: str
    preheader: str
    mjml: str
    created_at: datetime
    updated_at: datetime
    warnings: list[ProblemField] = Field(description="What compiles but should be fixed (a marketing "
                                                     "template without an unsubscribe link).")
    versions: list[VersionOut] = Field(description="Every version, newest first.")


class TemplateSummaryOut(BaseModel):
    slug: str
    name: str
    category: Category
    tracking: bool
    archived: bool
    version: int
    subject: str
    has_unsubscribe_link: bool
    updated_at: datetime


class TemplateList(BaseModel):
    items: list[TemplateSummaryOut]


class TemplateListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_archived: bool = Field(default=False, description="List archived templates too.")


class TemplateReplace(TemplateIn):
    """A whole template; the slug may be left out (it is the one in the path)."""

    slug: str | None = Field(default=None, pattern=SLUG_PATTERN, min_length=1, max_length=100,  # type: ignore[assignment]
                             description="When given, the slug in the path (a slug never changes).")


class TemplatePatch(BaseModel):
    """Only the fields to change."""

    model_config = ConfigDict(extra="forbid")
    subject: Source | None = Field(default=None, min_length=1, max_length=500)
    preheader: Source | None = Field(default=None, max_length=500)
    mjml: Source | None = Field(default=None, min_length=1, max_length=templates.MJML_MAX)
    category: Category | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tracking: bool | None = None


class PreviewIn(BaseModel):
    """Whom to render for: a contact by id, or a sample contact; and the trigger event's properties."""

    model_config = ConfigDict(extra="forbid")
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="A stored contact.")
    contact: dict[str, Any] | None = Field(default=None, description='A sample contact, as for simulation: '
                                           '{"email", "attributes", "timezone", "tags", "metrics", "consent"}.')
    event: dict[str, Any] = Field(default_factory=dict, description="The trigger event's properties (event.*).")
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="Default: the current version.")


class PreviewOut(BaseModel):
    slug: str
    version: int
    subject: str
    preheader: str
    html: str
    text: str


def template_out(template: Template) -> TemplateOut:
    history = templates.versions_of(db.session, template)
    current = history[0]
    return TemplateOut(id=template.id, slug=template.slug, name=template.name,
                       category=template.category, tracking=template.tracking,  # type: ignore[arg-type]
                       archived=template.archived, version=current.number, subject=current.subject,
                       preheader=current.preheader or "", mjml=current.mjml, created_at=template.created_at,
                       updated_at=template.updated_at,
                       warnings=[ProblemField(**w.as_json()) for w in templates.warnings_for(template.category,
                                                                                             current.mjml)],
                       versions=[VersionOut(number=v.number, subject=v.subject, created_at=v.created_at)
                                 for v in history])


def _by(call: ApiCall) -> str:
    return call.source


def _model(model: type[BaseModel], body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = problems_of(exc)
        raise ValidationFailed(f"{problems[0].pointer or 'body'}: {problems[0].detail}", errors=problems) from None


@operation(bp, "POST", "/templates", summary="Create a template", tag=TAG, scope="templates:write", body=TemplateIn,
           status=201, result=TemplateOut, result_description="Created, as version 1.", errors=CONFLICT,
           description="The same shape as a template file of `journeys simulate --templates`, with its slug. "
                       "A template that does not compile is refused with the part and line of each problem.")
def create_template(call: ApiCall) -> ResponseReturnValue:
    data = templates.parse(call.body)
    with db.transaction() as s:
        template = templates.create_template(s, data, user_id=None, now=clock.now(), by=_by(call))
    return template_out(template), 201


@operation(bp, "GET", "/templates", summary="List templates", tag=TAG, scope="templates:read",
           query=TemplateListQuery, result=TemplateList, description="By slug, with each one's current version.")
def list_templates(call: ApiCall) -> ResponseReturnValue:
    rows = templates.list_templates(db.session, include_archived=call.query.include_archived)
    return TemplateList(items=[TemplateSummaryOut(
        slug=t.slug, name=t.name, category=t.category, tracking=t.tracking, archived=t.archived,  # type: ignore[arg-type]
        version=t.version, subject=t.subject, has_unsubscribe_link=t.has_unsubscribe_link, updated_at=t.updated_at)
        for t in rows])


@operation(bp, "GET", "/templates/<slug>", summary="Read a template", tag=TAG, scope="templates:read",
           result=TemplateOut, description="The current version in full, and the list of versions.")
def get_template(call: ApiCall, slug: str) -> ResponseReturnValue:
    return template_out(templates.get_template(db.session, slug))


@operation(bp, "PUT", "/templates/<slug>", summary="Replace a template", tag=TAG, scope="templates:write",
           body=TemplateReplace, result=TemplateOut, result_description="The template, now at its new version.",
           description="A new version when subject, preheader or MJML changed (the same version otherwise); "
                       "name, category and tracking change in place. Fields left out take their defaults.")
def replace_template(call: ApiCall, slug: str) -> ResponseReturnValue:
    given = _model(TemplateReplace, call.body)
    template = templates.get_template(db.session, slug)
    data = templates.parse({**given.model_dump(exclude_none=True), "slug": given.slug or slug})
    return _update(call, template, data)


@operation(bp, "PATCH", "/templates/<slug>", summary="Change part of a template", tag=TAG,
           scope="templates:write", body=TemplatePatch, result=TemplateOut,
           result_description="The template, at its new version if its content changed.",
           description="Only the fields given change; a change of subject, preheader or MJML makes a new version.")
def patch_template(call: ApiCall, slug: str) -> ResponseReturnValue:
    changes = _model(TemplatePatch, call.body).model_dump(exclude_none=True)
    template = templates.get_template(db.session, slug)
    current = templates.as_input(template, templates.latest_version(db.session, template))
    return _update(call, template, templates.parse({**current.model_dump(), **changes}))


def _update(call: ApiCall, template: Template, data: TemplateIn) -> ResponseReturnValue:
    with db.transaction() as s:
        templates.update_template(s, template, data, user_id=None, now=clock.now(), by=_by(call))
    return template_out(template)


@operation(bp, "POST", "/templates/<slug>/preview", summary="Render a preview", tag=TAG, scope="templates:read",
           body=PreviewIn, body_optional=True, result=PreviewOut, result_description="The rendered email.",
           description="Renders the template exactly as a send would (same names: contact.*, event.*, "
                       "metrics.*), for a stored contact or a sample one; links lead nowhere. Nothing is sent "
                       "or stored. A template that fails to render for this contact is answered 422 with the line.")
def preview_template(call: ApiCall, slug: str) -> ResponseReturnValue:
    given: PreviewIn = _model(PreviewIn, call.body)
    if given.contact_id is not None and given.contact is not None:
        raise ValidationFailed("Give contact_id or a sample contact, not both.", field="contact")
    template = templates.get_template(db.session, slug)
    version: TemplateVersion = (templates.get_version(db.session, template, given.version) if given.version
                                else templates.latest_version(db.session, template))
    contact = None
    if given.contact_id is not None:
        try:
            contact = contacts.get_contact(db.session, given.contact_id)
        except NotFound as exc:
            raise ValidationFailed(exc.detail, field="contact_id") from None
    sample = {"contact": given.contact, "event": given.event}
    email = templates.render_preview(db.session, version, contact=contact, sample=sample,
                                     settings=current_app.config["SETTINGS"])
    return PreviewOut(slug=template.slug, version=version.number, subject=email.subject, preheader=email.preheader,
                      html=email.html, text=email.text)
