"""wait: for a duration, until a local time of day, or for an event with a timeout."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from pydantic import Field

from journeys.errors import DurationError
from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register
from journeys.state import Event
from journeys.timing import Duration, next_time_of_day, parse_duration, parse_time_of_day


class Until(NodeConfig):
    time: str
    weekdays: list[int] | None = None


class WaitConfig(NodeConfig):
    duration: str | None = None
    until: Until | None = None
    event: str | None = Field(default=None, min_length=1, max_length=200)
    timeout: str | None = None


@dataclass(frozen=True)
class Wait:
    duration: Duration | None = None
    at: time | None = None
    weekdays: frozenset[int] | None = None
    event: str | None = None
    timeout: Duration | None = None

    @property
    def longest(self) -> Duration | None:
        return self.duration or self.timeout


@register
class WaitNode(NodeType[Wait]):
    type = "wait"
    label = "Wait"
    form = "nodes/wait.html"
    config_model = WaitConfig
    suspends = True

    def ports(self, prepared: Wait) -> tuple[str | None, ...]:
        return ("event", "timeout") if prepared.event else (None,)

    def checks(self, config: WaitConfig) -> Iterable[tuple[str, str]]:
        modes = [m for m in ("duration", "until", "event") if getattr(config, m) is not None]
        if len(modes) != 1:
            yield "wait.mode", "a wait needs exactly one of: a duration, a time of day, an event"
            return
        if config.timeout is not None and config.event is None:
            yield "wait.mode", "a timeout only applies to a wait for an event"
        if config.event is not None and config.timeout is None:
            yield "wait.timeout", "a wait for an event needs a timeout, or contacts could wait forever"
        for name in ("duration", "timeout"):
            value = getattr(config, name)
            if value is not None:
                yield from _duration_problems(name, value)
        if config.until is not None:
            yield from _until_problems(config.until)

    def prepare(self, config: WaitConfig) -> Wait:
        until = config.until
        return Wait(
            duration=parse_duration(config.duration) if config.duration else None,
            at=parse_time_of_day(until.time) if until else None,
            weekdays=frozenset(until.weekdays) if until and until.weekdays else None,
            event=config.event,
            timeout=parse_duration(config.timeout) if config.timeout else None,
        )

    def enter(self, prepared: Wait, ctx: StepContext) -> Outcome:
        if prepared.at is not None:
            due = next_time_of_day(ctx.now, prepared.at, ctx.tz, prepared.weekdays)
        else:
            span = prepared.duration or prepared.timeout
            assert span is not None, "validated wait without a duration"
            due = span.after(ctx.now, ctx.tz)
        return Outcome.rest("waiting", due, waiting_for=prepared.event)

    def resume(self, prepared: Wait, ctx: StepContext) -> Outcome:
        if prepared.event is None:
            return Outcome.follow("resumed")
        if isinstance(ctx.stimulus, Event):
            return Outcome.follow("resumed", "event")
        return Outcome.follow("resumed", "timeout")


def _duration_problems(name: str, value: str) -> Iterable[tuple[str, str]]:
    try:
        duration = parse_duration(value)
    except DurationError as exc:
        yield "duration.invalid", f"{name}: {exc}"
        return
    if duration.is_zero:
        yield "duration.invalid", f"{name} must be longer than zero"


def _until_problems(until: Until) -> Iterable[tuple[str, str]]:
    try:
        parse_time_of_day(until.time)
    except DurationError as exc:
        yield "time.invalid", f"until.time: {exc}"
    if until.weekdays is not None:
        days = until.weekdays
        if not days or any(d < 1 or d > 7 for d in days) or len(set(days)) != len(days):
            yield "weekday.invalid", "until.weekdays must list distinct ISO weekdays, 1 = Monday … 7 = Sunday"
