"""Sign in and out."""
from __future__ import annotations

from flask import (Blueprint, flash, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from app.auth import sessions
from app.auth.access import SignedIn
from app.auth.passwords import verify_password
from app.db import db
from app.models import User, normalize_email
from app.security import client_ip, limiter

bp = Blueprint("auth", __name__)


def _ip_and_email() -> str:
    return f"{client_ip()}|{normalize_email(request.form.get('email', ''))}"


def _failed(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code != 302


# Limits count failed attempts per address+account and per address, never per
# account alone: an attacker cannot lock a real user out from elsewhere.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_ip_and_email, methods=["POST"], deduct_when=_failed)
@limiter.limit("30 per 10 minutes", methods=["POST"], deduct_when=_failed)
def login():  # type: ignore[no-untyped-def]
    if request.method != "POST":
        if current_user.is_authenticated:
            return redirect(url_for("web.home"))
        return render_template("login.html", email="")
    email = normalize_email(request.form.get("email", ""))
    user = db.session.scalar(select(User).where(User.email == email))
    ok = verify_password(user.password_hash if user else None, request.form.get("password", ""))
    if not ok or user is None or not user.active:
        return render_template("login.html", email=email,
                               error="That email and password do not match an active account."), 401
    target = _safe_next(request.form.get("next") or request.args.get("next"))
    session.clear()  # a fresh session (and CSRF token) for the signed-in browser
    token = sessions.open_session(db.session, user, ip=client_ip(),
                                  user_agent=request.headers.get("User-Agent", ""))
    db.session.commit()
    session.permanent = True
    login_user(SignedIn(user, token))
    return redirect(target or url_for("web.home"))


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        sessions.revoke(db.session, current_user.token)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str | None:
    # Only local paths: a crafted ?next= must not send the user to another site.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
