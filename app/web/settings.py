"""Settings: users and roles (admins only), and each user's own account."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth import sessions
from app.auth.access import requires
from app.db import db
from app.errors import AppError
from app.services import users as user_service

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.get("/")
@requires("admin")
def index():  # type: ignore[no-untyped-def]
    return render_template("settings/index.html", users=user_service.list_users(db.session),
                           errors={}, form={})


@bp.post("/users")
@requires("admin")
def create_user():  # type: ignore[no-untyped-def]
    form = request.form
    try:
        with db.transaction() as s:
            user = user_service.create_user(s, email=form.get("email", ""), role=form.get("role", ""),
                                            password=form.get("password", ""),
                                            name=form.get("name", ""), actor=current_user.user)
    except AppError as exc:
        return render_template("settings/index.html", users=user_service.list_users(db.session),
                               errors={exc.field or "form": exc.detail}, form=form), exc.status
    flash(f"{user.email} can now sign in as {user.role.value}.", "success")
    return redirect(url_for("settings.index"))


@bp.post("/users/<int:user_id>/role")
@requires("admin")
def set_role(user_id: int):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        user = user_service.get_user(s, user_id)
        user_service.set_role(s, user, request.form.get("role", ""), actor=current_user.user)
    flash(f"{user.email} is now {user.role.value}.", "success")
    return redirect(url_for("settings.index"))


@bp.post("/users/<int:user_id>/active")
@requires("admin")
def set_active(user_id: int):  # type: ignore[no-untyped-def]
    active = request.form.get("active") == "1"
    with db.transaction() as s:
        user = user_service.get_user(s, user_id)
        user_service.set_active(s, user, active, actor=current_user.user)
    flash(f"{user.email} is {'active' if active else 'deactivated and signed out'}.", "success")
    return redirect(url_for("settings.index"))


@bp.post("/users/<int:user_id>/sign-out")
@requires("admin")
def sign_out_user(user_id: int):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        user = user_service.get_user(s, user_id)
        count = user_service.sign_out_everywhere(s, user, actor=current_user.user)
    flash(f"Ended {count} session(s) of {user.email}.", "success")
    return redirect(url_for("settings.index"))


@bp.get("/account")
@requires("viewer")
def account():  # type: ignore[no-untyped-def]
    return render_template("settings/account.html",
                           open_sessions=sessions.open_sessions(db.session, current_user.id),
                           errors={})


@bp.post("/account/password")
@requires("viewer")
def change_password():  # type: ignore[no-untyped-def]
    from app.auth.passwords import verify_password

    me = current_user.user
    if not verify_password(me.password_hash, request.form.get("current", "")):
        errors = {"current": "That is not your current password."}
    else:
        try:
            with db.transaction() as s:
                user_service.set_password(s, s.merge(me), request.form.get("password", ""), actor=me)
        except AppError as exc:
            errors = {exc.field or "password": exc.detail}
        else:
            flash("Password changed: every session has ended, sign in again.", "success")
            return redirect(url_for("auth.login"))
    return render_template("settings/account.html", errors=errors,
                           open_sessions=sessions.open_sessions(db.session, me.id)), 422


@bp.post("/account/sign-out-everywhere")
@requires("viewer")
def sign_out_everywhere():  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        user_service.sign_out_everywhere(s, current_user.user, actor=current_user.user)
    flash("Every session, this one included, has ended.", "info")
    return redirect(url_for("auth.login"))
