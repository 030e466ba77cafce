"""What an event looks like on the way in: the pydantic models that validate it (and that the
OpenAPI document is generated from), and the translation of their complaints into problems
with a JSON pointer each.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Sequence

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from app.errors import FieldProblem, ValidationFailed, pointer
from app.models import SubscriptionStatus
from journeys.addresses import parse_address
from journeys.timing import is_valid_zone, parse_timestamp

CONSENT = {s.value for s in SubscriptionStatus}
#: A shop's events name the same customers again and again, and checking an address is the
#: costliest part of validating an event: valid ones are remembered (refusals are not cached).
_address_of = lru_cache(maxsize=8192)(parse_address)


def _printable(value: str) -> str:
    # These strings land in indexed text columns: control characters (NUL above all,
    # which PostgreSQL refuses) and lone surrogates would fail there, not here.
    if not value.isprintable() or any("\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("must contain printable characters only")
    return value


Text = Annotated[str, AfterValidator(_printable)]
Tag = Annotated[Text, Field(min_length=1, max_length=100)]


class ContactIn(BaseModel):
    """Who the event is about: found by external_id, then email; created when new (email needed)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["email"]}, {"required": ["external_id"]}]})
    email: str | None = Field(default=None, max_length=320, json_schema_extra={"format": "email"},
                              description="Checked for syntax, stored lower-cased.")
    external_id: Text | None = Field(default=None, min_length=1, max_length=200,
                                     description="The shop's own id for this customer.")
    attributes: dict[str, Any] = Field(default_factory=dict,
                                       description="Custom attributes, merged into the contact's.")
    tags: list[Tag] = Field(default_factory=list, max_length=100, description="Added to the contact's tags.")
    timezone: str | None = Field(default=None, max_length=64, description="IANA time zone, e.g. Europe/Warsaw.")
    locale: Text | None = Field(default=None, max_length=35, description="BCP 47 language tag, e.g. pl-PL.")
    consent: dict[str, str] = Field(default_factory=dict, description='{"marketing": "subscribed"}, '
                                    'or unsubscribed, unconfirmed, never_subscribed.')

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else _address_of(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Warsaw")
        return value

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: dict[str, str]) -> dict[str, str]:
        for category, status in value.items():
            if category != "marketing" or status not in CONSENT:
                raise ValueError(f"consent must be {{\"marketing\": one of {', '.join(sorted(CONSENT))}}}")
        return value

    @model_validator(mode="after")
    def _identified(self) -> ContactIn:
        if self.email is None and self.external_id is None:
            raise ValueError("give an email or an external_id")
        return self


class EventIn(BaseModel):
    """One event, as a shop or a script reports it."""

    model_config = ConfigDict(extra="forbid")
    event: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/-]+$",
                       description="The event's name, e.g. order_placed; journeys trigger and wait on it.")
    contact: ContactIn
    properties: dict[str, Any] = Field(default_factory=dict,
                                       description="Anything the journeys and templates may use (event.*).")
    occurred_at: str | None = Field(default=None, json_schema_extra={"format": "date-time"},
                                    description="ISO 8601 with a time zone; default: when it arrived.")
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=255,
                                         description="A repeat of a known key stores nothing and "
                                         "answers with the first event's id.")

    @field_validator("occurred_at")
    @classmethod
    def _moment(cls, value: str | None) -> str | None:
        if value is not None and parse_timestamp(value) is None:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp with a time zone")
        return value


#: Plainer words for pydantic's most common complaints about JSON types.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be an array",
    "string_type": "must be a string",
}


def problems_of(exc: ValidationError, at: Sequence[str | int] = ()) -> list[FieldProblem]:
    """One FieldProblem per pydantic error, each with the JSON pointer of its field."""
    out = []
    for error in exc.errors(include_url=False, include_input=False):
        message = _MESSAGES.get(error["type"]) or error["msg"].removeprefix("Value error, ")
        out.append(FieldProblem(message, pointer=pointer(*at, *error["loc"])))
    return out


def parse(data: Any, at: Sequence[str | int] = ()) -> EventIn:
    """An EventIn, or ValidationFailed listing every wrong field (`field`: the first, dotted)."""
    try:
        return EventIn.model_validate(data)
    except ValidationError as exc:
        problems = problems_of(exc, at)
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationFailed(f"{where}: {problems[0].detail}", field=where, errors=problems) from None
