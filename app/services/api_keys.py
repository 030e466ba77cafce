"""API keys: created with scopes, shown once, stored as a SHA-256, revoked, checked on every call.

A key is 32 random bytes (`jrny_` + 43 URL-safe characters). That much entropy makes a
plain SHA-256 as safe to store as a slow password hash, and cheap enough to compute on
every request; it also survives a change of SECRET_KEY, which an HMAC with it would not.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from app.errors import NotFound, Unauthorized, ValidationFailed
from app.models import ApiKey, User
from app.services import audit

#: Every scope a key can hold, with what it allows (shown in Settings and the CLI's help).
SCOPES: dict[str, str] = {
    "events:write": "send events, one at a time or in batches",
    "contacts:read": "find contacts, read them and export their data",
    "contacts:write": "create, update and erase contacts",
    "templates:read": "read templates and render previews",
    "templates:write": "create and update templates",
    "journeys:read": "read journeys and their statistics, simulate them",
    "journeys:write": "create, edit, publish, pause, resume and archive journeys",
}
KEY_PREFIX = "jrny_"
#: Characters of the key kept in clear to identify it (`jrny_` and 7 more).
SHOWN = 12
SIGNING_PREFIX = "whsec_"
#: A key's last_used_at is written at most this often.
TOUCH_INTERVAL = timedelta(seconds=60)
NAME_MAX = 100
# Built once: every API request runs this, and building a select costs as much as running it.
_BY_HASH = select(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.scopes, ApiKey.signing_secret,
                  ApiKey.revoked_at, ApiKey.last_used_at).where(ApiKey.key_hash == bindparam("key_hash"))


@dataclass(frozen=True)
class ApiClient:
    """Who is calling: the key's identity, its scopes, and its signing secret if it has one."""

    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    signing_secret: str | None


@dataclass(frozen=True)
class Issued:
    """A key just made: the only moment its full text exists outside the caller's hands."""

    row: ApiKey
    key: str
    signing_secret: str | None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_signing_secret() -> str:
    return SIGNING_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def parse_scopes(raw: str | Iterable[str]) -> list[str]:
    """Scope names from "a,b" or a list; every unknown name is named in the error."""
    names = [s.strip() for s in (raw.split(",") if isinstance(raw, str) else raw) if s.strip()]
    unknown = [n for n in names if n not in SCOPES]
    if unknown:
        raise ValidationFailed(f"Unknown scope(s): {', '.join(unknown)}. Scopes are: {', '.join(SCOPES)}.",
                               field="scopes")
    if not names:
        raise ValidationFailed(f"Give at least one scope: {', '.join(SCOPES)}.", field="scopes")
    return sorted(set(names), key=list(SCOPES).index)


def _parse_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise ValidationFailed("Give the key a name, such as the system that will use it.", field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"A key's name has at most {NAME_MAX} characters.", field="name")
    return name


def create(db: Session, *, name: str, scopes: str | Iterable[str], signed: bool = False,
           actor: User | None, by: str, now: datetime) -> Issued:
    """A new key (flushed, not committed). `by` names the creator for the list of keys."""
    clean_name, clean_scopes = _parse_name(name), parse_scopes(scopes)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    secret = new_signing_secret() if signed else None
    row = ApiKey(name=clean_name, prefix=key[:SHOWN], key_hash=digest(key), scopes=clean_scopes,
                 signing_secret=secret, created_by=by, created_at=now)
    db.add(row)
    db.flush()
    audit.record(db, actor, "api_key.create", f"{row.prefix} {clean_name}", key_id=row.id,
                 scopes=clean_scopes, signed=signed)
    return Issued(row, key, secret)


def listing(db: Session) -> list[ApiKey]:
    """Active keys first, newest first."""
    return list(db.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))


def get(db: Session, key_id: int) -> ApiKey:
    row = db.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"No API key {key_id}.")
    return row


def revoke(db: Session, key_id: int, *, actor: User | None, by: str, now: datetime) -> ApiKey:
    """Revoke a key (idempotent): it is refused from its next request on."""
    row = get(db, key_id)
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = now, by
        audit.record(db, actor, "api_key.revoke", f"{row.prefix} {row.name}", key_id=row.id)
    return row


def set_signing(db: Session, key_id: int, *, enabled: bool, actor: User | None) -> str | None:
    """A new signing secret for the key (returned, shown once), or none: signing no longer required."""
    row = get(db, key_id)
    if row.revoked_at is not None:
        raise ValidationFailed(f"API key {row.prefix}… is revoked.", field="key")
    row.signing_secret = new_signing_secret() if enabled else None
    audit.record(db, actor, "api_key.signing", f"{row.prefix} {row.name}", key_id=row.id, enabled=enabled)
    return row.signing_secret


def authenticate(db: Session, key: str, now: datetime) -> ApiClient:
    """The client behind `key`, or Unauthorized. Records the use at most once a minute (commits then)."""
    row = db.execute(_BY_HASH, {"key_hash": digest(key)}).one_or_none()
    if row is None:
        raise Unauthorized("This API key is not valid: check that the whole key was copied.")
    if row.revoked_at is not None:
        raise Unauthorized(f"API key {row.prefix}… was revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC.")
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        # Conditional, so of several processes seeing the same stale time only one writes.
        db.execute(update(ApiKey).where(ApiKey.id == row.id, or_(
            ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - TOUCH_INTERVAL))
            .values(last_used_at=now))
        db.commit()
    return ApiClient(row.id, row.name, row.prefix, frozenset(row.scopes or ()), row.signing_secret)
