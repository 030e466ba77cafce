"""flask-login wiring and the role check every view declares."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Flask, abort, current_app
from flask_login import LoginManager, UserMixin, current_user, login_required

from app.auth import sessions
from app.config import Settings
from app.db import db
from app.models import Role, User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
# The session row, not the cookie, decides who is signed in; see sessions.py.
login_manager.session_protection = None

F = TypeVar("F", bound=Callable[..., Any])


class SignedIn(UserMixin):
    """The current user together with the session token that proved it."""

    def __init__(self, user: User, token: str) -> None:
        self.user = user
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def is_active(self) -> bool:
        return self.user.active

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)

    def can(self, needed: Role | str) -> bool:
        return self.user.role.allows(Role(needed))


def _timeouts() -> sessions.Timeouts:
    settings: Settings = current_app.config["SETTINGS"]
    return sessions.Timeouts(idle=timedelta(seconds=settings.session_idle_seconds),
                             absolute=timedelta(seconds=settings.session_max_seconds))


@login_manager.user_loader
def _load(token: str) -> SignedIn | None:
    user = sessions.resolve(db.session, token, _timeouts())
    return SignedIn(user, token) if user else None


def requires(role: Role | str) -> Callable[[F], F]:
    """Sign-in required, and at least `role` (viewer < marketer < admin)."""
    needed = Role(role)

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.can(needed):
                abort(403, f"This page needs the {needed.value} role.")
            return view(*args, **kwargs)

        wrapper.required_role = needed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
