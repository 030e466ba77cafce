"""Settings → Suppressions (admins): every address that gets nothing, why, and releasing one."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError, ValidationFailed
from app.models import Contact, normalize_email
from app.services import audit_log, suppressions
from journeys.addresses import parse_address
from journeys.errors import AddressError
from sqlalchemy import select

bp = Blueprint("suppressions", __name__, url_prefix="/settings/suppressions")


def _page(status: int = 200, errors: dict[str, str] | None = None) -> ResponseReturnValue:
    args = request.args
    try:
        page = suppressions.listing(db.session, reason=args.get("reason", ""), email=args.get("email", ""),
                                    page=args.get("page", 1, type=int))
    except ValidationFailed as exc:
        errors, page = {**(errors or {}), "reason": exc.detail}, suppressions.listing(db.session)
        status = 422
    return render_template("settings/suppressions.html", page=page, errors=errors or {},
                           reasons=suppressions.REASONS, filters={"reason": args.get("reason", ""),
                                                                  "email": args.get("email", "")}), status


@bp.get("/")
@requires("admin")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/")
@requires("admin")
def add() -> ResponseReturnValue:
    """Block an address by hand (a known spam trap, a customer's written request)."""
    try:
        email = normalize_email(parse_address(request.form.get("email", "")))
    except AddressError as exc:
        return _page(422, {"email": str(exc)})
    detail = request.form.get("detail", "").strip()
    with db.transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.email == email))
        row = suppressions.suppress(s, email, reason="manual", source=f"admin:{current_user.email}", now=clock.now(),
                                    detail=detail, contact_id=contact.id if contact else None)
        audit_log.write(s, actor=current_user.email, actor_id=current_user.id, action="suppression.add",
                        target=f"contact:{contact.id}" if contact else f"suppression:{row.id}", now=clock.now(),
                        reason=detail[:300])
    flash("The address gets no more email.", "success")
    return redirect(url_for("suppressions.index"))


@bp.post("/<int:suppression_id>/release")
@requires("admin")
def release(suppression_id: int) -> ResponseReturnValue:
    try:
        with db.transaction() as s:
            suppressions.release(s, suppression_id, reason=request.form.get("reason", ""), actor=current_user.email,
                                 actor_id=current_user.id, now=clock.now())
    except (ValidationFailed,) as exc:
        return _page(422, {f"release-{suppression_id}": exc.detail})
    except AppError as exc:
        if exc.status == 404:
            raise
        return _page(exc.status, {f"release-{suppression_id}": exc.detail})
    flash("Released: mail may reach the address again (consent still decides marketing mail).", "success")
    return redirect(url_for("suppressions.index"))
