"""The A/B preview page of a journey node: /journeys/<id>/preview?node=<node id>.

The canvas links here from A/B split and send nodes. The page renders every variant's
email side by side for the sample or a contact picked by email; changing either re-renders
the variants through htmx.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app.auth.access import requires
from app.db import db
from app.errors import AppError, NotFound, ValidationFailed
from app.services import journey_preview
from app.services import journeys as journey_service
from app.web import previews
from app.web.templates_studio import shows_email

bp = Blueprint("journey_preview", __name__, url_prefix="/journeys")


@bp.get("/<int:journey_id>/preview")
@shows_email
@requires("viewer")
def page(journey_id: int) -> ResponseReturnValue:
    journey = _journey(journey_id)
    nodes = journey_preview.previewable_nodes(journey.draft)
    chosen = request.args.get("node") or _default_node(nodes)
    try:
        contact = previews.preview_contact(db.session, request.args.get("contact"))
    except ValidationFailed:
        contact = None
    context: dict[str, Any] = {"journey": journey, "nodes": nodes, "chosen": chosen, "contact": contact,
                               "sample_text": previews.sample_text(), "result": None, "problem": None,
                               "sender": previews.sender_line(db.session, current_app.config["SETTINGS"])}
    status = 200
    if chosen:
        try:
            context["result"] = journey_preview.preview_node(
                db.session, journey, chosen, contact=contact, sample=previews.default_sample(),
                settings=current_app.config["SETTINGS"])
        except AppError as exc:
            context["problem"], status = exc.detail, exc.status
    return render_template("journey_preview/page.html", **context), status


def _journey(journey_id: int) -> Any:
    if not previews.known_id(journey_id):
        raise NotFound(f"No journey {journey_id}.")
    return journey_service.get_journey(db.session, journey_id)


def _default_node(nodes: list[dict[str, Any]]) -> str | None:
    splits = [n["id"] for n in nodes if n.get("type") == "ab_split"]
    return (splits or [n["id"] for n in nodes] or [None])[0]


@bp.post("/<int:journey_id>/preview")
@requires("viewer")
def render_variants(journey_id: int) -> ResponseReturnValue:
    journey = _journey(journey_id)
    try:
        contact = previews.preview_contact(db.session, request.form.get("contact"))
        sample = previews.parse_sample(request.form.get("sample"))
        result = journey_preview.preview_node(db.session, journey, request.form.get("node", ""), contact=contact,
                                              sample=sample, settings=current_app.config["SETTINGS"])
    except AppError as exc:
        return render_template("journey_preview/_variants.html", result=None, problem=exc.detail,
                               contact=None), 422 if exc.status < 500 else exc.status
    return render_template("journey_preview/_variants.html", result=result, problem=None, contact=contact,
                           sender=previews.sender_line(db.session, current_app.config["SETTINGS"]))
