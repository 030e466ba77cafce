"""Settings → Shops (admins): the sources whose webhooks feed journeys. Create one (its webhook URL,
and for WooCommerce a secret made here, are shown once), rotate its secret, change its
cart-abandonment window, disable, enable, delete."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError, ValidationFailed
from app.models import SourceKind
from app.services import sources

bp = Blueprint("sources", __name__, url_prefix="/settings/sources")


def _page(status: int = 200, **context: Any) -> ResponseReturnValue:
    context.setdefault("errors", {})
    context.setdefault("form", {})
    rows = sources.listing(db.session)
    html = render_template("settings/sources.html", sources=rows, kinds=[k.value for k in SourceKind],
                           activity=sources.activity(db.session, [r.id for r in rows]),
                           base_url=current_app.config["SETTINGS"].base_url,
                           default_minutes=sources.DEFAULT_CART_WINDOW // 60,
                           min_minutes=sources.MIN_CART_WINDOW // 60, max_minutes=sources.MAX_CART_WINDOW // 60,
                           **context)
    response = make_response(html, status)
    if "secret" in context:
        response.headers["Cache-Control"] = "no-store"  # a secret is on this page: keep it out of caches
    return response


def _minutes(raw: str | None) -> int:
    try:
        minutes = int((raw or "").strip())
    except ValueError:
        raise ValidationFailed("give the window in whole minutes", field="cart_window_seconds") from None
    return minutes * 60


def _errors(exc: AppError) -> dict[str, str]:
    return {exc.field or "form": exc.detail}


@bp.get("/")
@requires("admin")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/")
@requires("admin")
def create() -> ResponseReturnValue:
    form = request.form
    try:
        kind = SourceKind(form.get("kind", ""))
    except ValueError:
        return _page(422, errors={"kind": "choose Shopify or WooCommerce"}, form=form)
    secret = form.get("secret", "").strip() or None
    made = secret is None and kind is SourceKind.woocommerce
    try:
        with db.transaction() as s:
            row = sources.create(s, kind=kind, name=form.get("name", ""),
                                 secret=sources.new_secret() if made else secret,
                                 cart_window_seconds=_minutes(form.get("cart_window_minutes")),
                                 by=current_user.email, now=clock.now(), actor=current_user.user)
    except AppError as exc:
        return _page(exc.status, errors=_errors(exc), form=form)
    return _page(created=row, secret=row.secret if made else None)


@bp.post("/<int:source_id>/secret")
@requires("admin")
def rotate_secret(source_id: int) -> ResponseReturnValue:
    given = request.form.get("secret", "").strip() or None
    try:
        with db.transaction() as s:
            secret = sources.rotate_secret(s, source_id, given, by=current_user.email, actor=current_user.user)
            row = sources.get(s, source_id)
    except ValidationFailed as exc:
        return _page(exc.status, errors={f"secret-{source_id}": exc.detail})
    if given is None:
        return _page(rotated=row, secret=secret)
    flash(f"{row.name} now checks signatures with the new secret.", "success")
    return redirect(url_for("sources.index"))


@bp.post("/<int:source_id>/window")
@requires("admin")
def set_window(source_id: int) -> ResponseReturnValue:
    try:
        with db.transaction() as s:
            sources.get(s, source_id)  # an unknown source is 404 whatever the form says
            row = sources.set_cart_window(s, source_id, _minutes(request.form.get("cart_window_minutes")),
                                          by=current_user.email, actor=current_user.user)
    except ValidationFailed as exc:
        return _page(exc.status, errors={f"window-{source_id}": exc.detail})
    flash(f"Checkouts from {row.name} now count as abandoned after {row.cart_window_seconds // 60} minutes.",
          "success")
    return redirect(url_for("sources.index"))


@bp.post("/<int:source_id>/enabled")
@requires("admin")
def set_enabled(source_id: int) -> ResponseReturnValue:
    enabled = request.form.get("enabled") == "1"
    with db.transaction() as s:
        row = sources.set_disabled_by_id(s, source_id, not enabled, by=current_user.email, actor=current_user.user)
    flash(f"{row.name} is {'enabled' if enabled else 'disabled: its deliveries are refused (401)'}.", "success")
    return redirect(url_for("sources.index"))


@bp.post("/<int:source_id>/delete")
@requires("admin")
def delete(source_id: int) -> ResponseReturnValue:
    try:
        with db.transaction() as s:
            row = sources.delete(s, source_id, by=current_user.email, actor=current_user.user)
    except AppError as exc:
        if exc.status == 404:
            raise
        return _page(exc.status, errors={f"delete-{source_id}": exc.detail})
    flash(f"{row.name} is deleted.", "success")
    return redirect(url_for("sources.index"))
