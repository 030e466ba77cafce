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

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr, parseaddr
from typing import Any, Literal, Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldProblem, ValidationFailed, pointer
from app.models import AuditEntry, WorkspaceSetting
from journeys.addresses import parse_address
from journeys.errors import AddressError, DurationError
from journeys.state import Policy
from journeys.timing import QuietHours, is_valid_zone, parse_time_of_day


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
    shop_url: str = Field(default="", max_length=500, description="The shop's web address (`shop.url`), "
                          "for the links of emails; empty: none.")
    shop_address: str = Field(default="", max_length=300, description="The postal address in email "
                              "footers (`shop.address`): the law of many countries asks marketing mail for one.")
    from_name: str = Field(default="", max_length=100, description="The sender's name; empty: MAIL_FROM's.")
    from_address: str = Field(default="", max_length=320, description="The sender's address; empty: "
                              "MAIL_FROM's. The mail server must be allowed to send for its domain.")
    reply_to: str = Field(default="", max_length=320, description="Where replies go; empty: to the sender.")
    default_timezone: str = Field(default="UTC", description="For contacts whose time zone is unknown, "
                                  "where the journey sets none.")
    default_quiet_hours: QuietHoursSetting | None = Field(
        default=None, description="For journeys that set no quiet hours of their own.")
    marketing_consent: Literal["explicit", "not_unsubscribed"] = Field(
        default="explicit", description="explicit: only contacts who opted in (GDPR's default); "
        "not_unsubscribed: everybody who has not unsubscribed, where the law allows it.")
    # Consent and deliverability (docs/consent.md, docs/deliverability.md).
    double_opt_in: bool = Field(default=False, description="A new marketing subscription is confirmed by a "
                                "click in a confirmation email before any marketing mail goes.")
    double_opt_in_sources: dict[Literal["webhook", "import", "form", "api"], bool] = Field(
        default_factory=dict, description="Per source of the subscription, overriding double_opt_in "
        "(e.g. {\"webhook\": false} when the shop confirms subscriptions itself).")
    consent_wording: str = Field(default="v1", min_length=1, max_length=100, description="The version of the "
                                 "consent text your forms and the confirmation email show, kept with each record.")
    soft_bounce_limit: int = Field(default=3, ge=1, le=100, description="Soft bounces within "
                                   "soft_bounce_days that suppress an address.")
    soft_bounce_days: int = Field(default=14, ge=1, le=365)
    complaint_warn_percent: float = Field(default=0.1, gt=0, le=100, description="A marketing journey "
                                          "whose complaint rate reaches this warns the admins.")
    complaint_pause_percent: float = Field(default=0.3, gt=0, le=100, description="... and at this it "
                                           "pauses itself (Gmail's and Yahoo's limit is 0.3%).")
    complaint_min_sample: int = Field(default=1000, ge=1, le=10_000_000, description="Messages a journey "
                                      "must have sent before its complaint rate counts.")
    complaint_window_days: int = Field(default=30, ge=1, le=365, description="Sends of the last this-many "
                                       "days count towards the rate.")
    # Analytics (docs/analytics.md).
    attribution_click_days: int = Field(default=5, ge=1, le=90, description="An order this many days or "
                                        "less after a click on an email is credited to that email (last touch).")
    attribution_open_days: int = Field(default=1, ge=0, le=90, description="... and this many after an open "
                                       "(0: opens earn no credit).")
    lift_window_days: int = Field(default=7, ge=1, le=90, description="Orders this many days after entering a "
                                  "journey count when the mailed group is compared with the holdout.")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="The shop's currency (ISO 4217), "
                          "for revenue figures.")

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not is_valid_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Warsaw")
        return value

    @field_validator("shop_name", "shop_address", "from_name")
    @classmethod
    def _one_line(cls, value: str, info: ValidationInfo) -> str:
        # These end up in mail headers and footers: a line break could forge a header.
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must be one line of text (no line breaks or control characters)")
        if info.field_name == "shop_name" and not value.strip():
            raise ValueError("is required: the name your customers know the shop by")
        return value.strip()

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return parse_address(value)
        except AddressError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("shop_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(f"{value!r} is not a web address: use https://shop.example")
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


@dataclass(frozen=True)
class Sender:
    """Who mail is from (name and address), and Reply-To when replies go elsewhere."""

    name: str
    address: str
    reply_to: str | None = None

    @property
    def from_header(self) -> str:
        """The From value for build_message (RFC 2047 for a non-ASCII name)."""
        return formataddr((self.name, self.address)) if self.name else self.address

    @property
    def display(self) -> str:
        """For people: `Name <address>`, unencoded."""
        return f"{self.name} <{self.address}>" if self.name else self.address


def sender(ws: Workspace, mail_from: str) -> Sender:
    """The workspace's sender identity, each part falling back to MAIL_FROM's."""
    default_name, default_address = parseaddr(mail_from)
    return Sender(ws.from_name or default_name, ws.from_address or default_address, ws.reply_to or None)


def shop_context(ws: Workspace) -> dict[str, str]:
    """What templates see as `shop.*`."""
    return {"name": ws.shop_name, "url": ws.shop_url, "address": ws.shop_address}


def engine_policy(ws: Workspace) -> Policy:
    """The workspace rules the journey core takes: consent mode, default zone and quiet hours."""
    quiet = ws.default_quiet_hours
    return Policy(consent_mode="not_unsubscribed" if ws.marketing_consent == "not_unsubscribed" else "opt_in",
                  default_timezone=ws.default_timezone,
                  default_quiet_hours=QuietHours(parse_time_of_day(quiet.start), parse_time_of_day(quiet.end))
                  if quiet else None)
