"""Settings → Consent & deliverability (admins): consent rules, DNS records, DKIM keys, bounce
webhook URLs, complaint alerts; and the alerts banner every admin page shows.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError, ValidationFailed
from app.services import bounce_intake, complaint_guard, consent, dkim_keys, workspace

bp = Blueprint("deliverability", __name__, url_prefix="/settings/deliverability")

NUMBERS = {"soft_bounce_limit": int, "soft_bounce_days": int, "complaint_warn_percent": float,
           "complaint_pause_percent": float, "complaint_min_sample": int, "complaint_window_days": int}


@bp.app_context_processor
def _alerts() -> dict[str, Any]:
    """The complaint guard's open alerts, for the banner admins see on every page."""
    try:
        if current_user.is_authenticated and current_user.can("admin"):
            return {"deliverability_alerts": complaint_guard.open_alerts(db.session)}
    except AppError:
        pass
    return {"deliverability_alerts": []}


def _page(status: int = 200, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
          **extra: Any) -> ResponseReturnValue:
    settings = current_app.config["SETTINGS"]
    ws = workspace.current(db.session)
    return render_template(
        "settings/deliverability.html", values=values or ws.model_dump(), errors=errors or {},
        sources=consent.CONFIRMABLE, records=dkim_keys.dns_records(db.session, settings),
        keys=dkim_keys.keys(db.session), env_key=bool(settings.dkim_private_key_path),
        domain=dkim_keys.sender_domain(db.session, settings), alerts=complaint_guard.open_alerts(db.session),
        webhooks={p: bounce_intake.url(settings, p) for p in bounce_intake.PROVIDERS},
        sns_topics=settings.bounce_sns_topic_arns, sendgrid_signed=bool(settings.sendgrid_webhook_public_key),
        streams={"transactional_url": bool(settings.smtp_url_transactional),
                 "transactional_rate": settings.mail_rate_per_second_transactional,
                 "rate": settings.mail_rate_per_second}, **extra), status


@bp.get("/")
@requires("admin")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/consent")
@requires("admin")
def save_consent() -> ResponseReturnValue:
    form = request.form
    changes: dict[str, Any] = {
        "double_opt_in": form.get("double_opt_in") == "1",
        "double_opt_in_sources": {s: form.get(f"doi_{s}") == "1" for s in consent.CONFIRMABLE
                                  if form.get(f"doi_{s}") in ("0", "1")},
        "consent_wording": form.get("consent_wording", "").strip(),
    }
    errors: dict[str, str] = {}
    for name, kind in NUMBERS.items():
        try:
            changes[name] = kind(form.get(name, "").strip())
        except ValueError:
            errors[name] = "Write a number."
    if not errors and changes["complaint_warn_percent"] >= changes["complaint_pause_percent"]:
        errors["complaint_warn_percent"] = "The warning level must be below the pause level."
    if not errors:
        try:
            with db.transaction() as s:
                workspace.update(s, changes, actor=current_user.email, actor_id=current_user.id, now=clock.now())
        except ValidationFailed as exc:
            errors = {(p.pointer or "/form").strip("/").split("/")[0]: p.detail for p in exc.problems()}
    if errors:
        return _page(422, errors, {**workspace.current(db.session).model_dump(), **request.form.to_dict(),
                                   "double_opt_in_sources": changes["double_opt_in_sources"],
                                   "double_opt_in": changes["double_opt_in"]})
    flash("Consent and deliverability settings saved.", "success")
    return redirect(url_for("deliverability.index"))


@bp.post("/dkim")
@requires("admin")
def generate_key() -> ResponseReturnValue:
    settings = current_app.config["SETTINGS"]
    try:
        with db.transaction() as s:
            row = dkim_keys.generate(s, domain=request.form.get("domain") or dkim_keys.sender_domain(s, settings),
                                     selector=request.form.get("selector", ""), actor=current_user.email,
                                     actor_id=current_user.id, now=clock.now())
    except AppError as exc:
        return _page(exc.status, {"dkim": exc.detail})
    flash(f"Key {row.selector} for {row.domain} made. Publish its DNS record below, then start signing.", "success")
    return redirect(url_for("deliverability.index"))


@bp.post("/dkim/<int:key_id>/active")
@requires("admin")
def set_key_active(key_id: int) -> ResponseReturnValue:
    active = request.form.get("active") == "1"
    with db.transaction() as s:
        row = dkim_keys.set_active(s, key_id, active, actor=current_user.email, actor_id=current_user.id,
                                   now=clock.now())
    flash(f"Mail from {row.domain} is {'now signed with' if active else 'no longer signed with'} "
          f"the key {row.selector}.", "success")
    return redirect(url_for("deliverability.index"))


@bp.post("/alerts/<int:alert_id>/clear")
@requires("admin")
def clear_alert(alert_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        complaint_guard.clear(s, alert_id, actor=current_user.email, actor_id=current_user.id, now=clock.now())
    flash("Alert dismissed: the complaint rate is counted afresh from now.", "success")
    target = request.form.get("next", "")
    local = target.startswith("/") and not target.startswith(("//", "/\\"))  # never another site
    return redirect(target if local else url_for("deliverability.index"))
