"""Journey-wide settings: re-entry, exit events, quiet hours, frequency cap, holdout."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from journeys.errors import DurationError
from journeys.problems import Problem, error
from journeys.timing import Duration, QuietHours, is_valid_zone, parse_duration, parse_time_of_day


class _QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str
    end: str


class _Cap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max: int = Field(ge=1, le=1000)
    per: str


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reentry: str = "never"
    exit_events: list[str] = Field(default_factory=list)
    quiet_hours: _QuietHours | None = None
    frequency_cap: _Cap | None = None
    holdout_percent: float = Field(default=0, ge=0, le=100)
    timezone: str | None = None


@dataclass(frozen=True)
class FrequencyCap:
    max: int
    per: Duration


@dataclass(frozen=True)
class JourneySettings:
    reentry: Literal["never", "always"] | Duration = "never"
    exit_events: frozenset[str] = frozenset()
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None
    holdout_percent: float = 0.0
    timezone: str | None = None


def parse_settings(raw: Any) -> tuple[JourneySettings | None, list[Problem]]:
    """Settings from the journey's JSON, or every problem with them."""
    try:
        model = _Settings.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}"
                           for e in exc.errors(include_url=False)[:5])
        return None, [error("settings.invalid", f"journey settings: {detail}")]
    problems: list[Problem] = []
    reentry: Literal["never", "always"] | Duration = "never"
    if model.reentry in ("never", "always"):
        reentry = model.reentry  # type: ignore[assignment]
    else:
        reentry = _duration(model.reentry, "reentry", problems) or "never"
    quiet = None
    if model.quiet_hours is not None:
        try:
            quiet = QuietHours(parse_time_of_day(model.quiet_hours.start),
                               parse_time_of_day(model.quiet_hours.end))
        except DurationError as exc:
            problems.append(error("time.invalid", f"quiet hours: {exc}"))
    cap = None
    if model.frequency_cap is not None:
        per = _duration(model.frequency_cap.per, "frequency cap period", problems)
        cap = FrequencyCap(model.frequency_cap.max, per) if per else None
    if model.timezone is not None and not is_valid_zone(model.timezone):
        problems.append(error("settings.timezone",
                              f"{model.timezone!r} is not an IANA time zone such as Europe/Warsaw"))
    if any(not e.strip() for e in model.exit_events):
        problems.append(error("settings.invalid", "exit events must have names"))
    if problems:
        return None, problems
    return JourneySettings(reentry, frozenset(model.exit_events), quiet, cap,
                           model.holdout_percent, model.timezone), []


def _duration(text: str, what: str, problems: list[Problem]) -> Duration | None:
    try:
        duration = parse_duration(text)
    except DurationError as exc:
        problems.append(error("duration.invalid", f"{what}: {exc}"))
        return None
    if duration.is_zero:
        problems.append(error("duration.invalid", f"{what} must be longer than zero"))
        return None
    return duration
