"""Settings → Workspace (shop, sending defaults, consent) and Email (sender, SMTP, test email).

Admins only. The values are workspace settings (app/services/workspace.py), validated all
or nothing; the SMTP server is the deployment's (SMTP_URL) and is shown, never edited.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import escape

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError, ValidationFailed
from app.mail import parse_smtp_url
from app.services import test_sends, workspace
from journeys.rendering import RenderedEmail

bp = Blueprint("workspace_settings", __name__, url_prefix="/settings")

_ZONES = sorted(available_timezones())
SHOP_FIELDS = ("shop_name", "shop_url", "shop_address")
SENDER_FIELDS = ("from_name", "from_address", "reply_to")


def _errors(exc: AppError) -> dict[str, str]:
    found = {}
    for p in exc.problems():
        found.setdefault((p.pointer or "/form").lstrip("/").split("/")[0] or "form", p.detail)
    return found or {"form": exc.detail}


def _update(changes: dict[str, Any]) -> None:
    with db.transaction() as s:
        workspace.update(s, changes, actor=current_user.email, actor_id=current_user.id, now=clock.now())


@bp.get("/workspace")
@requires("admin")
def workspace_page() -> ResponseReturnValue:
    return _workspace_page(workspace.current(db.session).model_dump(), {})


def _workspace_page(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> ResponseReturnValue:
    return render_template("settings/workspace.html", values=values, errors=errors, zones=_ZONES), status


@bp.post("/workspace")
@requires("admin")
def save_workspace() -> ResponseReturnValue:
    form = request.form
    changes: dict[str, Any] = {name: form.get(name, "") for name in SHOP_FIELDS}
    changes["default_timezone"] = form.get("default_timezone", "").strip()
    changes["marketing_consent"] = form.get("marketing_consent", "")
    changes["default_quiet_hours"] = ({"start": form.get("quiet_start", ""), "end": form.get("quiet_end", "")}
                                      if form.get("quiet_hours") == "1" else None)
    try:
        _update(changes)
    except ValidationFailed as exc:
        return _workspace_page({**workspace.current(db.session).model_dump(), **changes}, _errors(exc), 422)
    flash("Workspace settings saved: new sends and journey steps use them from now on.", "success")
    return redirect(url_for("workspace_settings.workspace_page"))


@bp.get("/email")
@requires("admin")
def email_page() -> ResponseReturnValue:
    return _email_page(workspace.current(db.session).model_dump(), {})


def _email_page(values: dict[str, Any], errors: dict[str, str], status: int = 200, **extra: Any) -> ResponseReturnValue:
    settings = current_app.config["SETTINGS"]
    return render_template("settings/email.html", values=values, errors=errors, smtp=smtp_in_effect(settings),
                           sender=workspace.sender(workspace.current(db.session), settings.mail_from), mail_from=settings.mail_from,
                           **extra), status


def smtp_in_effect(settings: Any) -> dict[str, Any]:
    """What SMTP_URL says, for people: the password is never shown, only whether there is one."""
    if not settings.smtp_url:
        return {"kind": "outbox", "folder": str(settings.outbox_path)}
    try:
        smtp = parse_smtp_url(settings.smtp_url)
    except AppError as exc:
        return {"kind": "invalid", "problem": exc.detail}
    return {"kind": "smtp", "host": smtp.host, "port": smtp.port,
            "security": "implicit TLS (smtps)" if smtp.implicit_tls else "STARTTLS, required" if smtp.starttls
            else "none: plain SMTP", "username": smtp.username, "password": smtp.password is not None,
            "timeout": smtp.timeout, "rate": getattr(settings, "mail_rate_per_second", None)}


@bp.post("/email")
@requires("admin")
def save_email() -> ResponseReturnValue:
    changes = {name: request.form.get(name, "") for name in SENDER_FIELDS}
    try:
        _update(changes)
    except ValidationFailed as exc:
        return _email_page({**workspace.current(db.session).model_dump(), **changes}, _errors(exc), 422)
    flash("Sender saved: every email from now on is sent as it says.", "success")
    return redirect(url_for("workspace_settings.email_page"))


@bp.post("/email/test")
@requires("admin")
def test_email() -> ResponseReturnValue:
    values = workspace.current(db.session).model_dump()
    try:
        to = test_sends.recipient(request.form.get("to", ""))
    except ValidationFailed as exc:
        return _email_page(values, {"to": exc.detail}, 422, to=request.form.get("to", ""))
    if not test_sends.allowed(current_user.id):
        return _email_page(values, {"to": "That is the limit of test sends for now: wait a minute."}, 429, to=to)
    settings = current_app.config["SETTINGS"]
    ws = workspace.current(db.session)
    text = (f"This is a test from Journeys for {ws.shop_name}.\n\nIf you can read it, the mail settings work: "
            f"{test_sends.describe(settings)}.\n")
    html = "".join(f"<p>{escape(part)}</p>" for part in text.strip().split("\n\n"))
    email = RenderedEmail(f"Mail settings check for {ws.shop_name}", html, text, "", ())
    with db.transaction() as s:
        result = test_sends.send_test(s, to=to, email=email, settings=settings,
                                      actor=current_user.user, now=clock.now(), action="settings.test_email",
                                      target="workspace")
    return _email_page(values, {}, 200 if result.sent else 502, result=result, to=to)
