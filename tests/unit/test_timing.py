"""Durations, local times and quiet hours, DST included."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.errors import DurationError
from journeys.timing import (QuietHours, next_time_of_day, parse_duration, parse_time_of_day,
                             parse_timestamp, zone)

UTC = timezone.utc
WARSAW = zone("Europe/Warsaw")
ZONES = ["Europe/Warsaw", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/Santiago", "Pacific/Chatham", "Europe/London", "UTC", "America/St_Johns"]


@pytest.mark.parametrize("text", ["PT1H", "P3D", "P1W", "P1Y2M3DT4H5M6S", "pt30m"])
def test_durations_parse(text: str) -> None:
    assert not parse_duration(text).is_zero


@pytest.mark.parametrize("text", ["", "P", "PT", "1H", "P1H", "PT1D", "P-1D", "P1.5D", None, 3, "P999Y"])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_a_day_is_a_calendar_day_across_dst() -> None:
    before = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET
    after = parse_duration("P1D").after(before, WARSAW)
    assert after.astimezone(WARSAW).hour == 9 and after - before == timedelta(hours=23)
    assert parse_duration("PT24H").after(before, WARSAW) - before == timedelta(hours=24)


def test_months_clamp_to_the_end_of_the_month() -> None:
    assert parse_duration("P1M").after(datetime(2026, 1, 31, 12, tzinfo=UTC)).day == 28


def test_time_of_day_on_weekdays() -> None:
    friday_evening = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    due = next_time_of_day(friday_evening, parse_time_of_day("09:00"), WARSAW, frozenset({1, 2, 3, 4, 5}))
    assert due == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 CET


def test_a_skipped_local_time_moves_past_the_gap() -> None:
    night = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    due = next_time_of_day(night, parse_time_of_day("02:30"), WARSAW)
    assert due.astimezone(WARSAW).strftime("%H:%M") == "03:30"


def test_quiet_hours_release_at_the_local_end() -> None:
    quiet = QuietHours(parse_time_of_day("21:00"), parse_time_of_day("08:00"))
    assert quiet.release(datetime(2026, 12, 1, 21, 30, tzinfo=UTC), WARSAW) == \
        datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert quiet.release(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), WARSAW) is None
    assert quiet.release(datetime(2026, 12, 2, 5, 0, tzinfo=UTC), WARSAW) == \
        datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def test_timestamps() -> None:
    assert parse_timestamp("2026-12-01T10:00:00+02:00") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert parse_timestamp("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_timestamp("yesterday") is None and parse_timestamp(42) is None


times = st.integers(0, 23).flatmap(lambda h: st.integers(0, 59).map(lambda m: f"{h:02d}:{m:02d}"))


@settings(max_examples=400, deadline=None)
@given(zone_name=st.sampled_from(ZONES), start=times, end=times,
       moment=st.datetimes(datetime(2026, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)))
def test_quiet_hours_are_never_violated(zone_name: str, start: str, end: str, moment: datetime) -> None:
    tz = zone(zone_name)
    quiet = QuietHours(parse_time_of_day(start), parse_time_of_day(end))
    release = quiet.release(moment, tz)
    if release is None:
        assert not quiet.contains(moment.astimezone(tz).time())
    else:
        assert release > moment
        assert not quiet.contains(release.astimezone(tz).time())
        assert release - moment <= timedelta(hours=26)  # postponed to the window's end, not dropped
