"""Workspace settings: what an admin sets in Settings, validated here, stored per key.

`Workspace` names every setting with its type and default; a key never written reads as its
default, so a fresh install works before anybody opens Settings. `update` validates the whole
result before it writes anything, and records who changed which keys in the audit log
(secret values are never written there).

Environment variables configure the deployment (DATABASE_URL, SMTP_URL, MAIL_FROM …);
these settings configure the shop's marketing, and where both exist the setting wins and
the environment gives its default.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldProblem, ValidationFailed, pointer
from app.models import AuditEntry, WorkspaceSetting
from journeys.errors import DurationError
from journeys.timing import is_valid_zone, parse_time_of_day


class QuietHoursSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str = Field(description="HH:MM, the contact's local time.")
    end: str = Field(description="HH:MM; may be before start (a window across midnight).")

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            parse_time_of_day(value)
        except DurationError as exc:
            raise ValueError(str(exc)) from None
        return value


class Workspace(BaseModel):
    """Every workspace setting, with its default. Add a setting by adding a field."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    shop_name: str = Field(default="Our shop", min_length=1, max_length=200,
                           description="Shown in emails (`shop.name`) and on the contact-facing pages.")
    default_timezone: str = Field(default="UTC", description="For contacts whose time zone is unknown, "
                                  "where the journey sets none.")
    default_quiet_hours: QuietHoursSetting | None = Field(
        default=None, description="For journeys that set no quiet hours of their own.")
    marketing_consent: Literal["explicit", "not_unsubscribed"] = Field(
        default="explicit", description="explicit: only contacts who opted in (GDPR's default); "
        "not_unsubscribed: everybody who has not unsubscribed, where the law allows it.")

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not is_valid_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Warsaw")
        return value


#: Fields whose values never appear in the audit log (passwords, keys).
SECRET_FIELDS: frozenset[str] = frozenset(
    name for name, info in Workspace.model_fields.items()
    if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret"))


def current(db: Session) -> Workspace:
    """The settings as stored, defaults for the rest. A stored value that no longer
    validates (a setting whose type changed) reads as its default rather than failing."""
    stored = {row.key: row.value for row in db.scalars(select(WorkspaceSetting))}
    known = {k: v for k, v in stored.items() if k in Workspace.model_fields}
    try:
        return Workspace.model_validate(known)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        return Workspace.model_validate({k: v for k, v in known.items() if k not in bad})


def update(db: Session, changes: Mapping[str, Any], *, actor: str, actor_id: int | None = None,
           now: datetime) -> Workspace:
    """Apply `changes` (setting name → new value) all or nothing; flushes, does not commit.

    Raises ValidationFailed naming every bad field (unknown names included)."""
    before = current(db)
    unknown = [FieldProblem("is not a workspace setting", pointer=pointer(k))
               for k in changes if k not in Workspace.model_fields]
    if unknown:
        raise ValidationFailed(f"Unknown setting(s): {', '.join(sorted(k for k in changes if k not in Workspace.model_fields))}.",
                               errors=unknown)
    try:
        after = Workspace.model_validate({**before.model_dump(), **changes})
    except ValidationError as exc:
        problems = [FieldProblem(e["msg"].removeprefix("Value error, "), pointer=pointer(*e["loc"]))
                    for e in exc.errors(include_url=False, include_input=False)]
        first = exc.errors()[0]
        raise ValidationFailed(f"{'.'.join(str(p) for p in first['loc'])}: {problems[0].detail}",
                               field=".".join(str(p) for p in first["loc"]), errors=problems) from None
    dumped_before, dumped_after = before.model_dump(mode="json"), after.model_dump(mode="json")
    changed = sorted(k for k in changes if dumped_before[k] != dumped_after[k])
    for key in changed:
        row = db.get(WorkspaceSetting, key)
        if row is None:
            db.add(WorkspaceSetting(key=key, value=dumped_after[key], updated_at=now, updated_by=actor))
        else:
            row.value, row.updated_at, row.updated_by = dumped_after[key], now, actor
    if changed:
        db.add(AuditEntry(actor_id=actor_id, actor=actor, action="settings.update", target="workspace",
                          details={"changed": {k: ("(secret)" if k in SECRET_FIELDS else
                                                   [dumped_before[k], dumped_after[k]]) for k in changed}},
                          at=now))
    db.flush()
    return after
