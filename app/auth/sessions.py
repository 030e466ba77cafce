"""Server-side sessions: the cookie holds a random token, the database its hash.

Revoking a row (logout, "sign out everywhere", deactivating a user) ends that
browser's session at its next request, which a signed cookie alone cannot do.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.models import User, UserSession

#: Seconds between two writes of last_seen_at for the same session.
TOUCH_INTERVAL = 60


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


def open_session(db: Session, user: User, *, ip: str, user_agent: str) -> str:
    """Create a session row and return the token for the cookie (never stored raw)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.add(UserSession(token_hash=_digest(token), user_id=user.id, created_at=now,
                       last_seen_at=now, ip=ip[:64], user_agent=user_agent[:300]))
    user.last_login_at = now
    return token


def resolve(db: Session, token: str, timeouts: Timeouts) -> User | None:
    """The active user behind `token`, or None when unknown, revoked or expired."""
    row = db.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = clock.now()
    if now - row.last_seen_at > timeouts.idle or now - row.created_at > timeouts.absolute:
        row.revoked_at = now
        db.commit()
        return None
    if not row.user.active:
        return None
    if (now - row.last_seen_at).total_seconds() > TOUCH_INTERVAL:
        row.last_seen_at = now
        db.commit()
    return row.user


def revoke(db: Session, token: str) -> None:
    db.execute(update(UserSession).where(UserSession.token_hash == _digest(token),
                                         UserSession.revoked_at.is_(None))
               .values(revoked_at=clock.now()))


def revoke_all(db: Session, user_id: int) -> int:
    """End every session of the user; returns how many were open."""
    result = db.execute(update(UserSession).where(UserSession.user_id == user_id,
                                                  UserSession.revoked_at.is_(None))
                        .values(revoked_at=clock.now()))
    return result.rowcount or 0


def open_sessions(db: Session, user_id: int) -> list[UserSession]:
    return list(db.scalars(select(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    ).order_by(UserSession.last_seen_at.desc())))

