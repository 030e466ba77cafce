"""The data the interpreter reads and returns: contact facts, enrollment state, stimuli.

All of it is plain data the shell loads from (and stores to) the database; the
`as_dict`/`from_dict` pairs give the JSON stored in `enrollments.state`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Mapping

from journeys.timing import QuietHours, isoformat, parse_timestamp

Status = Literal["active", "waiting", "completed", "exited"]
ConsentMode = Literal["opt_in", "not_unsubscribed"]


@dataclass
class ContactFacts:
    """What the core may know about a contact. `key` is stable (the contact id)."""

    key: str
    email: str
    timezone: str | None = None
    locale: str | None = None
    tags: frozenset[str] = frozenset()
    attributes: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, str] = field(default_factory=dict)
    suppressed: bool = False
    marketing_sends: tuple[datetime, ...] = ()
    """When recent marketing mail went to this contact, any journey (frequency caps)."""
    engagement: dict[str, frozenset[str]] = field(default_factory=dict)
    """{"opened": send node ids, "clicked": send node ids} for this enrollment."""

    def as_contact_fields(self) -> dict[str, Any]:
        """The `contact.*` names rules and templates see: custom attributes, then built-ins."""
        fields = dict(self.attributes)
        fields.update(email=self.email, tags=sorted(self.tags), timezone=self.timezone,
                      locale=self.locale)
        return fields


@dataclass(frozen=True)
class Policy:
    """Workspace rules the shell hands in."""

    consent_mode: ConsentMode = "opt_in"
    """opt_in: marketing needs "subscribed"; not_unsubscribed: anything but "unsubscribed"."""
    default_timezone: str | None = None
    """The zone of a contact who has none, in a journey that names none (the workspace's)."""
    default_quiet_hours: QuietHours | None = None
    """Quiet hours for journeys that set none of their own (the workspace's)."""
    winners: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """(journey key, ab_split node) → the variant chosen as the winner: new arrivals go there."""


@dataclass(frozen=True)
class Timer:
    """The enrollment's `wake_at` has come."""


@dataclass(frozen=True)
class Event:
    name: str
    at: datetime
    properties: dict[str, Any] = field(default_factory=dict)


Stimulus = Timer | Event
TIMER = Timer()


@dataclass
class EnrollmentState:
    """Where one contact is in one journey version."""

    key: str
    status: Status
    node: str | None
    entered_at: datetime
    event: dict[str, Any] = field(default_factory=dict)
    wake_at: datetime | None = None
    waiting_for: str | None = None
    visits: dict[str, int] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)
    variant: str | None = None
    holdout: bool = False
    exit_reason: str | None = None
    steps: int = 0

    @property
    def is_finished(self) -> bool:
        return self.status in ("completed", "exited")

    def copy(self) -> EnrollmentState:
        return EnrollmentState(
            self.key, self.status, self.node, self.entered_at, self.event, self.wake_at,
            self.waiting_for, dict(self.visits), dict(self.variants), self.variant,
            self.holdout, self.exit_reason, self.steps)

    def as_dict(self) -> dict[str, Any]:
        # Every step of every contact writes this and the next one reads it back: what is at
        # its default is left out (from_dict restores it), which halves the usual state.
        data: dict[str, Any] = {"key": self.key, "status": self.status, "node": self.node,
                                "entered_at": isoformat(self.entered_at), "visits": self.visits,
                                "steps": self.steps}
        if self.event:
            data["event"] = self.event
        if self.wake_at:
            data["wake_at"] = isoformat(self.wake_at)
        if self.waiting_for is not None:
            data["waiting_for"] = self.waiting_for
        if self.variants:
            data["variants"] = self.variants
        if self.variant is not None:
            data["variant"] = self.variant
        if self.holdout:
            data["holdout"] = True
        if self.exit_reason is not None:
            data["exit_reason"] = self.exit_reason
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnrollmentState:
        # Read for every contact a batch wakes: positional, one lookup per field.
        get = data.get
        entered = parse_timestamp(data["entered_at"])
        assert entered is not None, "stored enrollment without entered_at"
        wake = get("wake_at")
        return cls(data["key"], data["status"], get("node"), entered, get("event") or {},
                   None if wake is None else parse_timestamp(wake), get("waiting_for"),
                   dict(get("visits") or ()), dict(get("variants") or ()), get("variant"),
                   bool(get("holdout")), get("exit_reason"), int(get("steps") or 0))
