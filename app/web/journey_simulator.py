"""The editor's simulator panel: a real contact or a sample profile, a start time and scripted
events ("order_placed after 2 hours") run through the graph on the canvas, with no side
effects; the canvas then highlights the path. Sent steps link to the email as rendered."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import escape
from sqlalchemy import select

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError, ValidationFailed
from app.models import Contact, normalize_email
from app.security import talisman
from app.services import contacts as contact_service
from app.services import journeys as journey_service
from app.services import simulation
from app.services import templates as template_service
from app.services.facts import facts_for
from app.services.versions import journey_key
from app.web.journey_panels import FRAMED_EMAIL_CSP, framed_email

bp = Blueprint("journey_simulator", __name__)

_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
EVENT_ROWS = 5
UNITS = {"M": timedelta(minutes=1), "H": timedelta(hours=1), "D": timedelta(days=1), "W": timedelta(weeks=1)}
SAMPLE_PROFILE = {"email": "ana@example.com", "timezone": "Europe/Warsaw", "locale": "pl-PL",
                  "attributes": {"first_name": "Ana", "country": "PL"}, "tags": [],
                  "metrics": {"orders_count": 0}, "consent": {"marketing": "subscribed"}}


def sample_profile_text() -> str:
    return json.dumps(SAMPLE_PROFILE, indent=2, ensure_ascii=False)


@bp.post("/journeys/<int:journey_id>/simulate")
@requires("viewer")
def simulate(journey_id: int) -> ResponseReturnValue:
    """Run the graph the editor sends (`graph`, the canvas as it is) for the chosen contact."""
    journey = journey_service.get_journey(db.session, journey_id)
    form = request.form
    try:
        graph = json.loads(form.get("graph") or "null")
        contact, contact_row = _contact(form)
        start = _start(form.get("start", ""))
        events = _events(form, start)
        timeline = simulation.simulate_journey(
            db.session, graph, contact=contact, events=events, start=start.isoformat(), until=None,
            settings=current_app.config["SETTINGS"], key=journey_key(journey.id))
    except ValueError:
        return _failed("The canvas could not be read; reload the page.", 422)
    except AppError as exc:
        details = [e.detail for e in exc.errors] if exc.errors else []
        return _failed(exc.detail, exc.status, details)
    trigger_props = events[0]["properties"] if events else {}
    return render_template("journeys/_sim_result.html", journey=journey, timeline=timeline, start=start,
                           contact=contact, contact_id=contact_row.id if contact_row else None,
                           contact_json=json.dumps(contact, default=str, ensure_ascii=False),
                           event_json=json.dumps(trigger_props, default=str, ensure_ascii=False),
                           steps=[_with_offset(s, start) for s in timeline["steps"]])


def _failed(detail: str, status: int, details: list[str] | None = None) -> ResponseReturnValue:
    return render_template("journeys/_sim_result.html", error=detail, details=details or []), status


def _contact(form: Any) -> tuple[dict[str, Any], Contact | None]:
    if form.get("who") == "contact":
        email = normalize_email(form.get("contact_email", ""))
        row = db.session.scalar(select(Contact).where(Contact.email == email)) if email else None
        if row is None:
            raise ValidationFailed(f"No contact has the address {form.get('contact_email', '')!r}; "
                                   "pick one from the suggestions or use a sample profile.", field="contact_email")
        facts = facts_for(db.session, row, clock.now())
        return ({"id": str(row.id), "email": facts.email, "timezone": facts.timezone, "locale": facts.locale,
                 "tags": sorted(facts.tags), "attributes": facts.attributes, "metrics": facts.metrics,
                 "consent": facts.consent, "suppressed": facts.suppressed}, row)
    try:
        profile = json.loads(form.get("sample") or "{}")
    except ValueError as exc:
        raise ValidationFailed(f"The sample profile is not valid JSON: {exc}.", field="sample") from None
    if not isinstance(profile, dict):
        raise ValidationFailed("The sample profile must be a JSON object with an email.", field="sample")
    return profile, None


def _start(text: str) -> datetime:
    if not text.strip():
        return clock.now().replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"Start {text!r} is not a date and time.", field="start") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _events(form: Any, start: datetime) -> list[dict[str, Any]]:
    events = []
    for i in range(EVENT_ROWS):
        name = form.get(f"event_{i}", "").strip()
        if not name:
            continue
        try:
            amount = float(form.get(f"after_{i}", "0") or 0)
        except ValueError:
            raise ValidationFailed(f"Event {i + 1}: “after” must be a number.", field=f"after_{i}") from None
        unit = UNITS.get(form.get(f"unit_{i}", "H"), UNITS["H"])
        text = form.get(f"props_{i}", "").strip() or "{}"
        try:
            properties = json.loads(text)
        except ValueError as exc:
            raise ValidationFailed(f"Event {i + 1} ({name}): the properties are not valid JSON: {exc}.",
                                   field=f"props_{i}") from None
        if amount < 0:
            raise ValidationFailed(f"Event {i + 1}: “after” cannot be negative.", field=f"after_{i}")
        events.append({"at": (start + unit * amount).isoformat(), "event": name, "properties": properties})
    if not events:
        raise ValidationFailed("Script at least the trigger event.", field="event_0")
    return events


def _with_offset(step: dict[str, Any], start: datetime) -> dict[str, Any]:
    at = datetime.fromisoformat(step["at"])
    seconds = int((at - start).total_seconds())
    return {**step, "offset": _human_offset(seconds)}


def _human_offset(seconds: int) -> str:
    if seconds <= 0:
        return "at start"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "+" + " ".join(p for p in parts if p)


@bp.post("/journeys/<int:journey_id>/simulate/email")
@requires("viewer")
@talisman(frame_options="SAMEORIGIN", content_security_policy=FRAMED_EMAIL_CSP,
          content_security_policy_nonce_in=[])
def email(journey_id: int) -> ResponseReturnValue:
    """A simulated send's email, rendered as the real send renders it, for the same contact."""
    journey_service.get_journey(db.session, journey_id)
    form = request.form
    try:
        template = template_service.get_template(db.session, form.get("template", ""))
        version = template_service.latest_version(db.session, template)
        contact = db.session.get(Contact, int(form["contact_id"])) if form.get("contact_id", "").isdigit() else None
        sample = {"event": json.loads(form.get("event") or "{}")}
        if contact is None:
            sample["contact"] = json.loads(form.get("contact") or "null")
        rendered = template_service.render_preview(db.session, version, contact=contact, sample=sample,
                                                   settings=current_app.config["SETTINGS"])
    except (AppError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, AppError) else str(exc)
        return framed_email(f"<p style='font:14px sans-serif;color:#b91c1c'>This email does not render: {escape(detail)}</p>")
    header = (f"<div style='font:13px sans-serif;padding:8px 12px;background:#f3f4f6;border-bottom:1px solid #ddd'>"
              f"<b>Subject:</b> {escape(rendered.subject)}<br><b>Preheader:</b> {escape(rendered.preheader)}</div>")
    html, found = _BODY.subn(lambda m: m.group(0) + header, rendered.html, count=1)
    return framed_email(html if found else header + html)


@bp.get("/journeys/<int:journey_id>/simulate/contacts")
@requires("viewer")
def contact_options(journey_id: int) -> ResponseReturnValue:
    """Suggestions for the contact picker: <option>s of addresses containing what was typed."""
    journey_service.get_journey(db.session, journey_id)
    query = request.args.get("contact_email", "").strip()
    rows = contact_service.search(db.session, query=query, size=12).rows if len(query) >= 2 else []
    return render_template("journeys/_contact_options.html", contacts=rows)
