"""Time arithmetic for journeys: ISO 8601 durations, local times of day, quiet hours.

Every function takes `now` (an aware UTC datetime) and a time zone; none reads
a clock. Calendar parts of a duration (years, months, weeks, days) are added
on the contact's local calendar, so "P1D" after 09:00 is 09:00 the next day
across a DST change; clock parts (hours, minutes, seconds) are elapsed time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from journeys.errors import DurationError

UTC = timezone.utc

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_DURATION_YEARS = 100
"""Durations beyond this many years are refused: they are typos, not plans."""


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    @property
    def is_zero(self) -> bool:
        return not any((self.years, self.months, self.weeks, self.days,
                        self.hours, self.minutes, self.seconds))

    def approximate(self) -> timedelta:
        """Length for comparisons ("longer than a year"), months as 30 days."""
        days = self.years * 365 + self.months * 30 + self.weeks * 7 + self.days
        return timedelta(days=days, hours=self.hours, minutes=self.minutes, seconds=self.seconds)

    def after(self, start: datetime, tz: ZoneInfo | timezone = UTC) -> datetime:
        """`start` plus this duration; calendar parts on the local calendar of `tz`."""
        return _after(self, start, tz)

    def before(self, end: datetime) -> datetime:
        """`end` minus this duration in elapsed time (look-back windows: caps, `within`)."""
        return end - self.approximate()


# A batch of contacts woken together asks the same question a thousand times (the same
# duration after the same `now` in a handful of zones): answers are kept.
@lru_cache(maxsize=4096)
def _after(self: Duration, start: datetime, tz: ZoneInfo | timezone) -> datetime:  # noqa: N805 - a method, cached
    moment = start
    if self.years or self.months or self.weeks or self.days:
        local = start.astimezone(tz)
        moved = _add_months(local.date(), self.years * 12 + self.months)
        moved += timedelta(days=self.weeks * 7 + self.days)
        wall = datetime.combine(moved, local.time().replace(tzinfo=None))
        moment = resolve_local(wall, tz)
    clock = timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)
    return (moment + clock).astimezone(UTC) if clock else moment.astimezone(UTC)


@lru_cache(maxsize=4096)
def parse_duration(text: object) -> Duration:
    """Parse "PT1H", "P3D", "P1Y2M" …; raise DurationError on anything else."""
    if not isinstance(text, str):
        raise DurationError(f"a duration must be an ISO 8601 string such as PT1H, not {text!r}")
    match = _DURATION.match(text.strip().upper())
    if not match:
        raise DurationError(f"{text!r} is not an ISO 8601 duration such as PT1H, P3D or P1W")
    duration = Duration(**{k: int(v) for k, v in match.groupdict().items() if v})
    if duration.approximate() > timedelta(days=365 * MAX_DURATION_YEARS):
        raise DurationError(f"{text!r} is longer than {MAX_DURATION_YEARS} years")
    return duration


def parse_time_of_day(text: object) -> time:
    """Parse a 24-hour "HH:MM"."""
    if not isinstance(text, str) or not _TIME_OF_DAY.match(text):
        raise DurationError(f"{text!r} is not a time of day in 24-hour HH:MM form")
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@lru_cache(maxsize=1024)
def zone(name: str | None, fallback: str | None = None) -> ZoneInfo | timezone:
    """The IANA zone `name`, else `fallback`, else UTC; unknown names fall through."""
    for candidate in (name, fallback):
        if isinstance(candidate, str) and candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return UTC


def is_valid_zone(name: object) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def resolve_local(wall: datetime, tz: ZoneInfo | timezone) -> datetime:
    """An aware datetime for a naive local wall time.

    A wall time skipped by a spring-forward change does not exist; it is moved
    forward by the size of the gap (02:30 becomes 03:30), which is what a person
    who set an alarm would expect. Ambiguous times take the first occurrence.
    """
    # PEP 495: fold=0 reads a skipped time with the offset before the change,
    # which lands after the gap once normalised through UTC.
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def next_time_of_day(
    now: datetime, at: time, tz: ZoneInfo | timezone, weekdays: frozenset[int] | None = None
) -> datetime:
    """The first moment strictly after `now` that is `at` local time on an allowed weekday."""
    local_now = now.astimezone(tz)
    for offset in range(0, 9):
        day = local_now.date() + timedelta(days=offset)
        if weekdays and day.isoweekday() not in weekdays:
            continue
        candidate = resolve_local(datetime.combine(day, at), tz)
        if candidate > now:
            return candidate.astimezone(UTC)
    raise DurationError("no allowed weekday within a week")  # unreachable with 1..7


@dataclass(frozen=True)
class QuietHours:
    """A nightly window, local to the contact, in which marketing mail waits."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, now: datetime, tz: ZoneInfo | timezone) -> datetime | None:
        """None when `now` is outside the window, else the window's local end."""
        local = now.astimezone(tz)
        if not self.contains(local.time()):
            return None
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)
        candidate = resolve_local(datetime.combine(day, self.end), tz)
        while candidate <= now or self.contains(candidate.astimezone(tz).time()):
            # Only reachable around DST changes: step until the local clock is out.
            candidate += timedelta(minutes=15)
        return candidate.astimezone(UTC)


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string or datetime; None otherwise."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        return _parse_iso(value)
    elif isinstance(value, date) and not isinstance(value, datetime):
        moment = datetime.combine(value, time(0))
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# Stored enrollment states repeat the same few timestamps across a batch: parsed and
# formatted once each.
@lru_cache(maxsize=8192)
def _parse_iso(value: str) -> datetime | None:
    if not (len(value) >= 10 and value[:4].isdigit() and value[4] == "-"):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@lru_cache(maxsize=8192)
def isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _add_months(day: date, months: int) -> date:
    if not months:
        return day
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise DurationError("date out of range")
