"""The editor's settings panel: a node's form (one template per node type, rendered and read
by the server; see node_form.py for how field names map to config) and the journey's
settings form, plus the template thumbnails the send form shows."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, current_app, make_response, render_template, request, url_for
from markupsafe import escape
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.auth.access import requires
from app.db import db
from app.errors import AppError, ValidationFailed
from app.models import Journey, JourneyStatus
from app.security import talisman
from app.services import canvas as canvas_service
from app.services import journeys as journey_service
from app.services import templates as template_service
from app.web.canvas_meta import ports_of, summary
from app.web.form_state import FormState
from app.web.node_form import apply_action, decode, normalise
from app.web.previews import default_sample
from app.web.rule_builder import OP_LABELS
from journeys.nodes import NODE_TYPES
from journeys.settings import parse_settings

bp = Blueprint("journey_panels", __name__)

#: A rendered email inside an <iframe sandbox> of our own page (a template's thumbnail, a
#: simulated send): its inline styles apply and, as in an inbox and in the template editor's
#: preview (app/web/previews.py), its product images and web fonts load; nothing may run, and
#: only our own pages may frame it.
FRAMED_EMAIL_CSP = {"default-src": "'none'", "style-src": "'unsafe-inline' https:", "img-src": "'self' data: https: http:",
                    "font-src": "data: https:", "frame-ancestors": "'self'", "base-uri": "'none'",
                    "form-action": "'none'"}


def _editable(journey: Journey) -> bool:
    return (current_user.can("marketer") and journey.status != JourneyStatus.archived
            and request.form.get("_readonly") != "1")


def _config_from(form: Any, name: str) -> dict[str, Any]:
    try:
        value = json.loads(form.get(name) or "{}")
    except ValueError:
        raise ValidationFailed(f"{name} must be a JSON object.", field=name) from None
    if not isinstance(value, dict):
        raise ValidationFailed(f"{name} must be a JSON object.", field=name)
    return value


@bp.post("/journeys/<int:journey_id>/node-form")
@requires("viewer")
def node_form(journey_id: int) -> ResponseReturnValue:
    """Opening a node (`_config`: its config as JSON) draws its form; a submission (the form's
    fields) is read back into a config, checked, and answered with the problems; `_action`
    (add or remove a row) draws the form again."""
    journey = journey_service.get_journey(db.session, journey_id)
    form = request.form
    node_id, kind = form.get("_node", ""), form.get("_type", "")
    handler = NODE_TYPES.get(kind)
    if handler is None or not node_id:
        raise ValidationFailed(f"Unknown node type {kind!r}.", field="_type")
    context = {"journey": journey, "node_id": node_id, "kind": kind, "label": handler.label or kind,
               "editable": _editable(journey), "graph_node_ids": form.getlist("_send_nodes")}
    if "_config" in form:
        config = _config_from(form, "_config")
        return _render_form(handler, context, FormState(config), config, {})
    fields = normalise(form)
    action = form.get("_action", "")
    if action:
        fields = apply_action(fields, action)
    decoded = decode(fields)
    if action:
        return _render_form(handler, context, FormState(decoded.config, fields, decoded.errors),
                            decoded.config, decoded.errors)
    return render_template("nodes/_feedback.html", **context,
                           **_outcome(handler, node_id, kind, decoded.config, decoded.errors))


def _render_form(handler: Any, context: dict[str, Any], state: FormState, config: dict[str, Any],
                 errors: dict[str, str]) -> ResponseReturnValue:
    templates = canvas_service.template_choices(db.session)
    preview = None
    if context["kind"] in ("ab_split", "send") and "journey_preview.page" in current_app.view_functions:
        preview = url_for("journey_preview.page", journey_id=context["journey"].id, node=context["node_id"])
    return render_template(handler.form or "nodes/_generic.html", **context, f=state,
                           events=canvas_service.event_names(db.session),
                           fields=canvas_service.rule_fields(db.session, _graph_hint(context)),
                           templates=templates, ops=OP_LABELS, preview_url=preview,
                           form_url=url_for("journey_panels.node_form", journey_id=context["journey"].id),
                           **_outcome(handler, context["node_id"], context["kind"], config, errors,
                                      known={t["slug"] for t in templates}))


def _graph_hint(context: dict[str, Any]) -> dict[str, Any]:
    """Enough of the graph for field suggestions: the trigger event and the send nodes."""
    form = request.form
    nodes = [{"id": n, "type": "send"} for n in form.getlist("_send_nodes")]
    if form.get("_trigger_event"):
        nodes.append({"id": "_", "type": "trigger", "config": {"event": form["_trigger_event"]}})
    return {"nodes": nodes}


def _outcome(handler: Any, node_id: str, kind: str, config: dict[str, Any], errors: dict[str, str],
             known: set[str] | None = None) -> dict[str, Any]:
    """What the canvas takes from a form: the config (unless a field could not be read), the
    node's own problems, its summary and ports."""
    problems: list[str] = []
    thumbnail = None
    if not errors:
        _, found = handler.parse(node_id, config if kind != "exit" else {})
        problems = [p.message for p in found]
        if kind == "send" and config.get("template"):
            known = known if known is not None else {t["slug"] for t in canvas_service.template_choices(db.session)}
            if config["template"] not in known:
                problems.append(f"template {config['template']!r} does not exist")
            else:
                thumbnail = config["template"]
    result = {"node": node_id, "errors": errors,
              "config": None if errors else config,
              "meta": {"summary": summary(kind, config), "ports": ports_of(kind, config),
                       "label": handler.label or kind}}
    return {"problems": problems, "result": result, "errors": errors, "thumbnail": thumbnail}


@bp.post("/journeys/<int:journey_id>/settings-form")
@requires("viewer")
def settings_form(journey_id: int) -> ResponseReturnValue:
    """The journey's settings: drawn from `_settings` (JSON) or read back from the form."""
    journey = journey_service.get_journey(db.session, journey_id)
    form = request.form
    context = {"journey": journey, "editable": _editable(journey),
               "events": canvas_service.event_names(db.session),
               "form_url": url_for("journey_panels.settings_form", journey_id=journey.id)}
    if "_settings" in form:
        settings = _config_from(form, "_settings")
        return render_template("journeys/_settings_form.html", **context, f=FormState(settings),
                               **_settings_outcome(settings, {}))
    decoded = decode(normalise(form))
    settings = _settings_from(decoded.config)
    return render_template("journeys/_settings_feedback.html", **context,
                           **_settings_outcome(settings, decoded.errors))


def _settings_from(decoded: dict[str, Any]) -> dict[str, Any]:
    settings = dict(decoded)
    after = settings.pop("reentry_after", None)
    if settings.get("reentry") == "after":
        settings["reentry"] = after or ""
    settings.setdefault("exit_events", [])
    return settings


def _settings_outcome(settings: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    problems = [] if errors else [p.message for p in parse_settings(settings)[1]]
    return {"problems": problems, "errors": errors,
            "result": {"settings": None if errors else settings, "errors": errors}}


@bp.get("/journeys/template-thumbnail/<slug>")
@requires("viewer")
@talisman(frame_options="SAMEORIGIN", content_security_policy=FRAMED_EMAIL_CSP,
          content_security_policy_nonce_in=[])
def template_thumbnail(slug: str) -> ResponseReturnValue:
    """The template rendered for the template editor's sample contact and event (a cart, an
    order): the send form shows it, scaled down."""
    try:
        template = template_service.get_template(db.session, slug)
        version = template_service.latest_version(db.session, template)
        rendered = template_service.render_preview(db.session, version, contact=None, sample=default_sample(),
                                                   settings=current_app.config["SETTINGS"])
    except AppError as exc:
        if exc.status == 404:
            abort(404)
        html = f"<p style='font:14px sans-serif;color:#b91c1c'>This template does not render: {escape(exc.detail)}</p>"
        return framed_email(html)
    return framed_email(rendered.html)


def framed_email(html: str) -> ResponseReturnValue:
    """A rendered email for one of our sandboxed frames (the view carries FRAMED_EMAIL_CSP)."""
    response = make_response(html)
    response.headers["Cache-Control"] = "private, no-store"
    return response
