"""Settings → API keys (admins): create (the key is shown once), list, revoke, signing secrets."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError
from app.services import api_keys

bp = Blueprint("api_keys", __name__, url_prefix="/settings/api-keys")


def _page(status: int = 200, **context: Any) -> ResponseReturnValue:
    context.setdefault("errors", {})
    context.setdefault("form", {})
    html = render_template("settings/api_keys.html", keys=api_keys.listing(db.session),
                           scopes=api_keys.SCOPES, **context)
    response = make_response(html, status)
    if "issued" in context or "secret" in context:
        response.headers["Cache-Control"] = "no-store"  # a secret is on this page: keep it out of caches
    return response


@bp.get("/")
@requires("admin")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/")
@requires("admin")
def create() -> ResponseReturnValue:
    form = request.form
    try:
        with db.transaction() as s:
            issued = api_keys.create(s, name=form.get("name", ""), scopes=form.getlist("scopes"),
                                     signed=form.get("signed") == "1", actor=current_user.user,
                                     by=current_user.email, now=clock.now())
    except AppError as exc:
        return _page(exc.status, errors={exc.field or "form": exc.detail}, form=form)
    return _page(issued=issued)


@bp.post("/<int:key_id>/revoke")
@requires("admin")
def revoke(key_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        row = api_keys.revoke(s, key_id, actor=current_user.user, by=current_user.email, now=clock.now())
    flash(f"API key {row.prefix}… ({row.name}) is revoked: its next request is refused.", "success")
    return redirect(url_for("api_keys.index"))


@bp.post("/<int:key_id>/signing")
@requires("admin")
def signing(key_id: int) -> ResponseReturnValue:
    enabled = request.form.get("enabled") == "1"
    with db.transaction() as s:
        secret = api_keys.set_signing(s, key_id, enabled=enabled, actor=current_user.user)
        row = api_keys.get(s, key_id)
    if secret:
        return _page(secret={"key": row, "value": secret})
    flash(f"Requests with {row.prefix}… no longer need a signature.", "success")
    return redirect(url_for("api_keys.index"))
