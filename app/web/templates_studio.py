"""Templates: the list, new from a starter, the editor with its live preview, test sends,
versions (view, restore as a new version) and archiving.

The editor page posts its fields to `preview` as the author types (htmx, debounced); the
server renders them exactly as a send would and answers with the problems (each on its
line) and, when it renders, the email in a sandboxed frame.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError, NotFound, ValidationFailed
from app.models import Template, User
from app.security import talisman
from app.services import contacts as contact_service
from app.services import templates as template_service
from app.services import test_sends
from app.starters import STARTERS, template_starters
from app.web import previews
from journeys.rendering import TemplateSource

bp = Blueprint("templates_studio", __name__, url_prefix="/templates")

#: The vendored editor (static/vendor/codemirror-<version>/, see its README).
CODEMIRROR_VERSION = "5.65.21"


@bp.context_processor
def _editor_globals() -> dict[str, Any]:
    return {"codemirror_version": CODEMIRROR_VERSION, "variables": previews.VARIABLES}

BLANK_MJML = """<mjml>
  <mj-body background-color="#f3f4f6">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="16px">Hi {{ contact.first_name|default('there') }},</mj-text>
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-text align="center" font-size="12px" color="#6b7280">
          <a href="{{ unsubscribe_url }}" style="color: #6b7280;">Unsubscribe</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""


def shows_email(view: Any) -> Any:
    """Pages with a rendered email in a srcdoc frame: see previews.PREVIEW_CSP for why."""
    return talisman(content_security_policy=previews.PREVIEW_CSP,
                    content_security_policy_nonce_in=["script-src"])(view)


@bp.get("")
@requires("viewer")
def index() -> ResponseReturnValue:
    archived = request.args.get("archived") == "1"
    rows = template_service.list_templates(db.session, include_archived=archived)
    return render_template("templates/index.html", rows=rows, archived=archived)


@bp.get("/new")
@shows_email
@requires("marketer")
def new() -> ResponseReturnValue:
    return _new_page({"starter": request.args.get("starter", "welcome")}, {})


def _new_page(form: Any, errors: dict[str, str], status: int = 200) -> ResponseReturnValue:
    starters = template_starters()
    sample = previews.default_sample()
    thumbnails = {}
    for s in STARTERS:
        data = starters[s.slug]
        shown = previews.render(db.session, TemplateSource(data.subject, data.mjml, data.preheader),
                                contact=None, sample=sample, settings=current_app.config["SETTINGS"])
        thumbnails[s.slug] = shown.email
    return render_template("templates/new.html", starters=STARTERS, thumbnails=thumbnails, form=form,
                           errors=errors), status


@bp.post("")
@shows_email
@requires("marketer")
def create() -> ResponseReturnValue:
    form = request.form
    choice = form.get("starter", "blank")
    starters = template_starters()
    if choice != "blank" and choice not in starters:
        return _new_page(form, {"starter": "Choose one of the starters, or a blank template."}, 422)
    base = starters.get(choice)
    try:
        data = template_service.parse({
            "slug": form.get("slug", "").strip(), "name": form.get("name", "").strip() or None,
            "category": form.get("category", "marketing"),
            "subject": base.subject if base else "Hello {{ contact.first_name|default('there') }}",
            "preheader": base.preheader if base else "", "mjml": base.mjml if base else BLANK_MJML})
        with db.transaction() as s:
            template = template_service.create_template(s, data, user_id=current_user.id, now=clock.now(),
                                                        by=current_user.email)
    except AppError as exc:
        return _new_page(form, _field_errors(exc), exc.status)
    flash(f"Template {template.name} created as version 1.", "success")
    return redirect(url_for("templates_studio.edit", slug=template.slug))


def _field_errors(exc: AppError) -> dict[str, str]:
    errors = {}
    for p in exc.problems():
        errors.setdefault((p.pointer or "/form").lstrip("/").split("/")[0] or "form", p.detail)
    return errors or {exc.field or "form": exc.detail}


@bp.get("/<slug>/edit")
@shows_email
@requires("viewer")
def edit(slug: str) -> ResponseReturnValue:
    template = template_service.get_template(db.session, slug)
    version = template_service.latest_version(db.session, template)
    contact = _contact_or_none(request.args.get("contact"))
    sample_text = previews.sample_text()
    shown = previews.render(db.session, TemplateSource(version.subject, version.mjml, version.preheader or ""),
                            contact=contact, sample=previews.default_sample(),
                            settings=current_app.config["SETTINGS"], category=template.category)
    return render_template("templates/edit.html", template=template, version=version, preview=shown,
                           contact=contact, sample_text=sample_text, readonly=not current_user.can("marketer"),
                           versions=template_service.versions_of(db.session, template),
                           sender=previews.sender_line(db.session, current_app.config["SETTINGS"]))


def _contact_or_none(raw: str | None) -> Any:
    try:
        return previews.preview_contact(db.session, raw)
    except ValidationFailed:
        return None


def _source() -> TemplateSource:
    form = request.form
    return TemplateSource(form.get("subject", ""), form.get("mjml", ""), form.get("preheader", ""),
                          form.get("category", "marketing"))


@bp.post("/<slug>/preview")
@requires("viewer")
def preview(slug: str) -> ResponseReturnValue:
    template_service.get_template(db.session, slug)
    shown, status = _render_form()
    return render_template("templates/_preview.html", preview=shown,
                           sender=previews.sender_line(db.session, current_app.config["SETTINGS"])), status


def _render_form() -> tuple[previews.Preview, int]:
    source = _source()
    try:
        contact = previews.preview_contact(db.session, request.form.get("contact"))
        sample = previews.parse_sample(request.form.get("sample"))
    except ValidationFailed as exc:
        return previews.Preview(None, previews.problems_of(exc.problems())), 422
    shown = previews.render(db.session, source, contact=contact, sample=sample,
                            settings=current_app.config["SETTINGS"], category=source.category)
    return shown, 422 if shown.errors else 200


@bp.post("/<slug>/edit")
@requires("marketer")
def save(slug: str) -> ResponseReturnValue:
    form = request.form
    try:
        with db.transaction() as s:
            template = template_service.get_template(s, slug)
            data = template_service.parse({
                "slug": slug, "subject": form.get("subject", ""), "preheader": form.get("preheader", ""),
                "mjml": form.get("mjml", ""), "category": form.get("category", template.category),
                "name": form.get("name", "").strip() or template.name, "tracking": form.get("tracking") == "1"})
            before = template_service.latest_version(s, template).number
            version = template_service.update_template(s, template, data, user_id=current_user.id,
                                                       now=clock.now(), by=current_user.email)
            number, name = version.number, template.name
    except ValidationFailed as exc:
        found = previews.problems_of(exc.problems())
        return render_template("templates/_save_status.html", problems=found, message=exc.detail,
                               preview=previews.Preview(None, found)), 422
    message = (f"Saved as version {number}." if number != before else "Saved: the content is unchanged, "
               "so there is no new version.")
    response = make_response(render_template("templates/_save_status.html", problems=[], message=message,
                                             number=number, name=name))
    response.headers["HX-Trigger"] = '{"jr:saved": {"version": %d}}' % number
    return response


@bp.post("/<slug>/test")
@requires("marketer")
def test_send(slug: str) -> ResponseReturnValue:
    template = template_service.get_template(db.session, slug)
    try:
        to = test_sends.recipient(request.form.get("to", ""))
    except ValidationFailed as exc:
        return render_template("templates/_test_result.html", error=exc.detail), 422
    shown, _ = _render_form()
    if shown.email is None:
        first = shown.errors[0] if shown.errors else None
        return render_template("templates/_test_result.html",
                               error=f"Fix the template first: {first.message if first else 'it does not render'}."), 422
    if not test_sends.allowed(current_user.id):
        return render_template("templates/_test_result.html", error=(
            f"That is the limit of test sends for now ({test_sends.TEST_SEND_LIMIT.replace(';', ', ')}): "
            "wait a minute and try again.")), 429
    settings = current_app.config["SETTINGS"]
    with db.transaction() as s:
        result = test_sends.send_test(s, to=to, email=shown.email, settings=settings, actor=current_user.user,
                                      now=clock.now(), action="template.test_send", target=f"template:{template.slug}")
    return render_template("templates/_test_result.html", result=result), 200 if result.sent else 502


@bp.get("/<slug>/versions")
@requires("viewer")
def versions(slug: str) -> ResponseReturnValue:
    template = template_service.get_template(db.session, slug)
    return render_template("templates/versions.html", template=template,
                           versions=template_service.versions_of(db.session, template),
                           authors=_authors(template))


def _authors(template: Template) -> dict[int, str]:
    """Who saved each version, by user id (a version keeps its author's id, or None)."""
    ids = {v.created_by_id for v in template.versions if v.created_by_id}
    rows = db.session.execute(select(User.id, User.email).where(User.id.in_(ids))) if ids else []
    return {ident: email for ident, email in rows}


@bp.get("/<slug>/versions/<int:number>")
@shows_email
@requires("viewer")
def version(slug: str, number: int) -> ResponseReturnValue:
    template = template_service.get_template(db.session, slug)
    shown_version = _version(template, number)
    latest = template_service.latest_version(db.session, template)
    shown = previews.render(db.session, TemplateSource(shown_version.subject, shown_version.mjml,
                                                       shown_version.preheader or ""),
                            contact=None, sample=previews.default_sample(),
                            settings=current_app.config["SETTINGS"], category=template.category)
    return render_template("templates/version.html", template=template, version=shown_version,
                           latest=latest, preview=shown, authors=_authors(template))


def _version(template: Template, number: int, session: Any = None) -> Any:
    if not previews.known_id(number):
        raise NotFound(f"Template {template.slug!r} has no version {number}.")
    return template_service.get_version(session or db.session, template, number)


@bp.post("/<slug>/versions/<int:number>/restore")
@requires("marketer")
def restore(slug: str, number: int) -> ResponseReturnValue:
    with db.transaction() as s:
        template = template_service.get_template(s, slug)
        old = _version(template, number, s)
        data = template_service.as_input(template, old)
        version = template_service.update_template(s, template, data, user_id=current_user.id,
                                                   now=clock.now(), by=current_user.email)
        restored = version.number
    flash(f"Version {number} restored as version {restored}." if restored != number
          else f"Version {number} is already the current content.", "success")
    return redirect(url_for("templates_studio.edit", slug=slug))


@bp.post("/<slug>/archive")
@requires("marketer")
def archive(slug: str) -> ResponseReturnValue:
    archived = request.form.get("archived", "1") == "1"
    with db.transaction() as s:
        template = template_service.get_template(s, slug)
        template_service.set_archived(s, template, archived, user_id=current_user.id, now=clock.now(),
                                      by=current_user.email)
        name = template.name
    flash(f"{name} is archived: journeys can no longer publish a send of it." if archived
          else f"{name} is back in the list.", "success")
    return redirect(url_for("templates_studio.index"))


@bp.get("/preview-contacts")
@requires("viewer")
def preview_contacts() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()
    page = contact_service.search(db.session, query=query, size=8) if query else None
    return render_template("templates/_contact_choices.html", page=page, q=query)
