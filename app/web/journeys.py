"""Journeys in the browser: the list (create, duplicate, pause, resume, archive) and the canvas
editor with its draft autosave and live numbers. Panels of the editor live in journey_panels,
journey_publish and journey_simulator."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError, Conflict, ValidationFailed
from app.models import Journey, JourneyStatus, User
from app.services import canvas as canvas_service
from app.services import journeys as journey_service
from app.starters import journey_starters
from app.services.analytics.overlay import overlay
from app.web.canvas_meta import draft_hash, node_meta, palette
from app.web.journey_simulator import sample_profile_text

bp = Blueprint("journeys", __name__)

LIVE = (JourneyStatus.active, JourneyStatus.paused)


@bp.get("/journeys")
@requires("viewer")
def index() -> ResponseReturnValue:
    show_archived = request.args.get("archived") == "1"
    rows = journey_service.list_journeys(db.session, clock.now(), include_archived=show_archived)
    return render_template("journeys/index.html", journeys=rows, starters=journey_starters.starters(),
                           show_archived=show_archived, errors={}, form={})


@bp.post("/journeys")
@requires("marketer")
def create() -> ResponseReturnValue:
    form = request.form
    starter = form.get("starter", "").strip()
    name = form.get("name", "").strip()
    try:
        with db.transaction() as s:
            if starter:
                journey = journey_starters.create_from_starter(s, starter, name=name or None,
                                                               user_id=current_user.id, now=clock.now())
            else:
                journey = journey_service.create_journey(s, name=name, graph=_blank(), user_id=current_user.id,
                                                         now=clock.now(), by=current_user.email)
    except AppError as exc:
        rows = journey_service.list_journeys(db.session, clock.now(), include_archived=False)
        return render_template("journeys/index.html", journeys=rows, starters=journey_starters.starters(),
                               show_archived=False, errors={exc.field or "form": exc.detail},
                               form=form), exc.status
    return redirect(url_for("journeys.editor", journey_id=journey.id))


def _blank() -> dict[str, Any]:
    return {"schema": 1, "settings": {"reentry": "never", "exit_events": []}, "nodes": [], "edges": [],
            "ui": {"positions": {}}}


@bp.post("/journeys/<int:journey_id>/duplicate")
@requires("marketer")
def duplicate(journey_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        source = journey_service.get_journey(s, journey_id)
        copy = journey_service.duplicate_journey(s, source, user_id=current_user.id, now=clock.now(),
                                                 by=current_user.email)
    flash(f"“{copy.name}” is a new draft: nothing of it runs until you publish it.", "success")
    return redirect(url_for("journeys.editor", journey_id=copy.id))


_ACTIONS = {
    "pause": (journey_service.pause_journey, "is paused: contacts stay where they are until you resume it."),
    "resume": (journey_service.resume_journey, "runs again."),
    "archive": (journey_service.archive_journey, "is archived: everybody inside has left it."),
}


@bp.post("/journeys/<int:journey_id>/pause", defaults={"action": "pause"}, endpoint="pause")
@bp.post("/journeys/<int:journey_id>/resume", defaults={"action": "resume"}, endpoint="resume")
@bp.post("/journeys/<int:journey_id>/archive", defaults={"action": "archive"}, endpoint="archive")
@requires("marketer")
def lifecycle(journey_id: int, action: str) -> ResponseReturnValue:
    run, outcome = _ACTIONS[action]
    try:
        with db.transaction() as s:
            journey = journey_service.get_journey(s, journey_id)
            run(s, journey, user=current_user.user, now=clock.now(), by=current_user.email)
            name = journey.name
    except Conflict as exc:
        flash(f"Nothing changed: {exc.detail}.", "error")
    else:
        flash(f"“{name}” {outcome}", "success")
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/journeys") else url_for("journeys.index"))


@bp.get("/journeys/<int:journey_id>")
@requires("viewer")
def editor(journey_id: int) -> ResponseReturnValue:
    journey = journey_service.get_journey(db.session, journey_id)
    # An archived journey is history: it opens read-only (duplicate it to work on a copy).
    editable = current_user.can("marketer") and journey.status != JourneyStatus.archived
    return render_template("journeys/editor.html", **editor_context(journey, journey.draft, editable=editable))


def editor_context(journey: Journey, graph: dict[str, Any], *, editable: bool,
                   version: Any = None) -> dict[str, Any]:
    """What the editor page needs, for the draft or (read-only) for one published version."""
    live = journey_service.live_version(db.session, journey)
    editor_by = db.session.get(User, journey.updated_by_id) if journey.updated_by_id else None
    boot = {
        "journey": journey.id, "graph": graph, "meta": node_meta(graph), "hash": draft_hash(journey.draft),
        "editable": editable and version is None, "version": version.number if version else None,
        "palette": palette(), "report": journey_service.validate_draft(db.session, journey, graph).as_dict(),
        "urls": {"draft": url_for("journeys.save_draft", journey_id=journey.id),
                 "counts": url_for("journeys.counts", journey_id=journey.id),
                 "nodeForm": url_for("journey_panels.node_form", journey_id=journey.id),
                 "settingsForm": url_for("journey_panels.settings_form", journey_id=journey.id),
                 "publish": url_for("journey_publish.dialog", journey_id=journey.id),
                 "versions": url_for("journey_publish.versions", journey_id=journey.id),
                 "simulate": url_for("journey_simulator.simulate", journey_id=journey.id)},
    }
    trigger = next((n for n in graph.get("nodes", []) if isinstance(n, dict) and n.get("type") == "trigger"), None)
    return {"journey": journey, "boot": boot, "live": live, "version": version, "editable": boot["editable"],
            "updated_by": editor_by.email if editor_by else None,
            "sample_profile": sample_profile_text(), "sim_start": clock.now().strftime("%Y-%m-%dT%H:%M"),
            "sim_trigger": ((trigger or {}).get("config") or {}).get("event", ""),
            "sim_events": canvas_service.event_names(db.session)}


@bp.post("/journeys/<int:journey_id>/draft")
@requires("marketer")
def save_draft(journey_id: int) -> ResponseReturnValue:
    """Autosave: the whole graph (and the name), refused when the draft changed since `base`."""
    with db.transaction() as s:
        journey = journey_service.get_journey(s, journey_id)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or "graph" not in body:
            raise ValidationFailed('Send {"graph": {...}, "base": "<hash of the draft you edited>"}.',
                                   field="graph")
        if journey.status == JourneyStatus.archived:
            raise Conflict("This journey is archived; duplicate it to work on a copy.")
        current = draft_hash(journey.draft)
        if body.get("base") != current and not body.get("force"):
            who = s.get(User, journey.updated_by_id) if journey.updated_by_id else None
            raise Conflict(f"This journey was changed elsewhere ({who.email if who else 'by someone else'}, "
                           f"{journey.updated_at:%Y-%m-%d %H:%M} UTC) after you opened it.", code="draft_changed")
        name = body.get("name")
        journey_service.update_draft(s, journey, graph=body["graph"], name=name if isinstance(name, str) else None,
                                     user_id=current_user.id, now=clock.now(), by=current_user.email)
        report = journey_service.validate_draft(s, journey)
        answer = {"hash": draft_hash(journey.draft), "saved_at": journey.updated_at.isoformat(),
                  "name": journey.name, "report": report.as_dict(), "meta": node_meta(journey.draft)}
    return jsonify(answer)


@bp.get("/journeys/<int:journey_id>/counts")
@requires("viewer")
def counts(journey_id: int) -> ResponseReturnValue:
    """Live numbers per node for the canvas overlay (polled every few seconds)."""
    journey = journey_service.get_journey(db.session, journey_id)
    if journey.status not in LIVE and not journey_service.live_version(db.session, journey):
        return jsonify({"status": journey.status.value, "nodes": {}})
    nodes = {node: {"waiting": c.waiting, "passed": c.passed, "reached": c.reached,
                    "sent": c.messages.get("sent", 0), "messages": c.messages, "outcomes": c.outcomes}
             for node, c in journey_service.node_counts(db.session, journey).items()}
    for node, extra in overlay(db.session, journey).items():  # rates, orders, A/B state (the report's figures)
        nodes.setdefault(node, {"waiting": 0, "passed": 0, "reached": 0, "sent": 0, "messages": {},
                                "outcomes": {}}).update(extra)
    response = jsonify({"status": journey.status.value, "nodes": nodes,
                        "report": url_for("analytics.report", journey_id=journey.id)})
    response.headers["Cache-Control"] = "no-store"
    return response

