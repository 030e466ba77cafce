"""Publishing from the editor (the impact first, then a version note) and the version history:
every version with who/when/note, any one shown read-only on the canvas, restored as the draft."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Journey, JourneyStatus, JourneyVersion, User
from app.services import journeys as journey_service
from app.web.canvas_meta import draft_hash
from app.web.journeys import editor_context

bp = Blueprint("journey_publish", __name__)


def _dialog(journey: Journey, *, status: int = 200, errors: dict[str, str] | None = None,
            form: Any = None) -> ResponseReturnValue:
    impact = journey_service.publish_impact(db.session, journey)
    waiting = sorted(set(impact.move) | set(impact.stay))
    live = journey_service.live_version(db.session, journey)
    html = render_template("journeys/_publish.html", journey=journey, impact=impact, waiting=waiting,
                           beyond=_beyond_nodes(live.graph if live else None, journey.draft),
                           hash=draft_hash(journey.draft), errors=errors or {}, form=form or {},
                           editable=current_user.can("marketer"),
                           archived=journey.status == JourneyStatus.archived)
    return html, status


def _beyond_nodes(live: Any, draft: Any) -> dict[str, Any]:
    """What changed besides the steps themselves: connections, settings, the layout, or nothing."""
    if not isinstance(live, dict):
        return {}
    edges = lambda g: {(e.get("from"), e.get("to"), e.get("port")) for e in g.get("edges") or []  # noqa: E731
                       if isinstance(e, dict)}
    before, after = edges(live), edges(draft)
    without_ui = lambda g: {k: v for k, v in g.items() if k != "ui"}  # noqa: E731
    return {"edges_added": len(after - before), "edges_removed": len(before - after),
            "settings": (live.get("settings") or {}) != (draft.get("settings") or {}),
            "layout_only": without_ui(live) == without_ui(draft) and live != draft,
            "identical": live == draft}


@bp.get("/journeys/<int:journey_id>/publish")
@requires("viewer")
def dialog(journey_id: int) -> ResponseReturnValue:
    """What publishing the saved draft would do: problems, graph diff, waiting contacts."""
    return _dialog(journey_service.get_journey(db.session, journey_id))


@bp.post("/journeys/<int:journey_id>/publish")
@requires("marketer")
def publish(journey_id: int) -> ResponseReturnValue:
    form = request.form
    journey = journey_service.get_journey(db.session, journey_id)
    if journey.status == JourneyStatus.archived:
        raise Conflict("This journey is archived; duplicate it to publish a copy.")
    notes = form.get("notes", "").strip()
    if form.get("hash") != draft_hash(journey.draft):
        return _dialog(journey, status=409, form=form, errors={
            "form": "The draft changed since this summary was made; here is the summary of the draft as it is now."})
    report = journey_service.validate_draft(db.session, journey)
    errors = {}
    if not notes:
        errors["notes"] = "Say in a few words what changes in this version; the history shows it."
    if report.warnings and form.get("confirm_warnings") != "1":
        errors["confirm_warnings"] = "Tick the box to publish in spite of the warnings."
    if errors:
        return _dialog(journey, status=422, form=form, errors=errors)
    try:
        with db.transaction() as s:
            journey = journey_service.get_journey(s, journey_id)
            version = journey_service.publish_journey(
                s, journey, user=current_user.user, notes=notes, migrate_waiting=form.get("migrate") == "1",
                now=clock.now(), by=current_user.email)
            number, status = version.number, journey.status.value
    except ValidationFailed as exc:
        return _dialog(journey_service.get_journey(db.session, journey_id), status=exc.status, form=form,
                       errors={"notes" if exc.field == "notes" else "form": exc.detail})
    response = make_response(render_template("journeys/_published.html", number=number, journey=journey))
    response.headers["HX-Trigger"] = json.dumps({"journeys:published": {"version": number, "status": status}})
    return response


@bp.get("/journeys/<int:journey_id>/versions")
@requires("viewer")
def versions(journey_id: int) -> ResponseReturnValue:
    journey = journey_service.get_journey(db.session, journey_id)
    rows = journey_service.versions_of(db.session, journey)
    people = {u.id: u.email for u in db.session.query(User).filter(
        User.id.in_({v.published_by_id for v in rows if v.published_by_id}))} if rows else {}
    return render_template("journeys/_versions.html", journey=journey, versions=rows, people=people,
                           editable=current_user.can("marketer") and journey.status != JourneyStatus.archived)


def _version(journey: Journey, number: int) -> JourneyVersion:
    for version in journey.versions:
        if version.number == number:
            return version
    raise NotFound(f"Journey {journey.id} has no version {number}.")


@bp.get("/journeys/<int:journey_id>/versions/<int:number>")
@requires("viewer")
def show_version(journey_id: int, number: int) -> ResponseReturnValue:
    """One published version on the canvas, read-only."""
    journey = journey_service.get_journey(db.session, journey_id)
    version = _version(journey, number)
    return render_template("journeys/editor.html",
                           **editor_context(journey, version.graph, editable=False, version=version))


@bp.post("/journeys/<int:journey_id>/versions/<int:number>/restore")
@requires("marketer")
def restore(journey_id: int, number: int) -> ResponseReturnValue:
    with db.transaction() as s:
        journey = journey_service.get_journey(s, journey_id)
        if journey.status == JourneyStatus.archived:
            raise Conflict("This journey is archived; duplicate it to work on a copy.")
        journey_service.restore_version(s, journey, number, user_id=current_user.id, now=clock.now(),
                                        by=current_user.email)
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url_for("journeys.editor", journey_id=journey_id, restored=number)
    return response
