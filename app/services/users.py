"""Staff accounts: create, change role, deactivate, sign out everywhere."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.auth import sessions
from app.auth.passwords import hash_password, password_problem
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Role, User
from app.services import audit
from journeys.addresses import parse_address
from journeys.errors import AddressError

def parse_email(raw: str) -> str:
    try:
        return parse_address(raw)
    except AddressError:
        raise ValidationFailed(f"{raw!r} is not an email address.", field="email") from None


def parse_role(raw: str) -> Role:
    try:
        return Role(raw)
    except ValueError:
        raise ValidationFailed(
            f"Role {raw!r} is not one of admin, marketer, viewer.", field="role"
        ) from None


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(db: Session, *, email: str, role: str, password: str,
                name: str = "", actor: User | None = None) -> User:
    address, parsed_role = parse_email(email), parse_role(role)
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, field="password")
    if db.scalar(select(User).where(User.email == address)) is not None:
        raise Conflict(f"A user with the email {address} already exists.", field="email")
    user = User(email=address, name=name.strip(), password_hash=hash_password(password),
                role=parsed_role, active=True, created_at=clock.now())
    db.add(user)
    db.flush()
    audit.record(db, actor, "user.create", address, role=parsed_role.value)
    return user


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.email)))


def set_role(db: Session, user: User, role: str, *, actor: User) -> None:
    new = parse_role(role)
    if user.id == actor.id and new is not Role.admin:
        raise ValidationFailed("You cannot remove your own admin role.", field="role")
    audit.record(db, actor, "user.role", user.email, before=user.role.value, after=new.value)
    user.role = new


def set_active(db: Session, user: User, active: bool, *, actor: User) -> None:
    if user.id == actor.id and not active:
        raise ValidationFailed("You cannot deactivate yourself.", field="active")
    user.active = active
    if not active:
        sessions.revoke_all(db, user.id)
    audit.record(db, actor, "user.activate" if active else "user.deactivate", user.email)


def set_password(db: Session, user: User, password: str, *, actor: User | None) -> None:
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, field="password")
    user.password_hash = hash_password(password)
    sessions.revoke_all(db, user.id)  # a new password must end stolen sessions
    audit.record(db, actor, "user.password", user.email)


def sign_out_everywhere(db: Session, user: User, *, actor: User) -> int:
    count = sessions.revoke_all(db, user.id)
    audit.record(db, actor, "user.sign_out_everywhere", user.email, sessions=count)
    return count
