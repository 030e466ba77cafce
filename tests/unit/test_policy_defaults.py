"""The workspace's defaults reach the core through Policy: a default zone for contacts without one,
default quiet hours for journeys without their own; a journey's own settings win."""
from __future__ import annotations

from datetime import time

from journeys import Policy, start
from journeys.timing import QuietHours
from tests.unit.builders import T0, contact, event, linear, node

NIGHT = QuietHours(time(21, 0), time(8, 0))
TOKYO = Policy(default_timezone="Asia/Tokyo", default_quiet_hours=NIGHT)


def _send(**settings):  # type: ignore[no-untyped-def]
    return linear(node("m1", "send", template="promo"), **settings)


def test_default_quiet_hours_defer_a_journey_that_sets_none() -> None:
    late = T0.replace(hour=21)  # 22:00 in Warsaw
    decision = start(_send(), contact(), event(at=late), late, key="e1",
                     policy=Policy(default_quiet_hours=NIGHT))
    step = decision.trace[-1]
    assert (step.outcome, step.reason, step.until) == ("deferred", "quiet_hours", T0.replace(day=2, hour=7))
    assert start(_send(), contact(), event(at=late), late, key="e1").effects  # no defaults: it goes


def test_the_default_zone_is_used_for_contacts_without_one() -> None:
    at = T0.replace(hour=13)  # 22:00 in Tokyo, 13:00 UTC
    deferred = start(_send(), contact(tz=None), event(at=at), at, key="e1", policy=TOKYO)
    assert deferred.trace[-1].reason == "quiet_hours" and deferred.trace[-1].until == T0.replace(day=1, hour=23)
    own_zone = start(_send(), contact(tz="Europe/Warsaw"), event(at=at), at, key="e1", policy=TOKYO)
    assert own_zone.effects  # 14:00 in Warsaw


def test_a_journeys_own_zone_and_quiet_hours_win() -> None:
    at = T0.replace(hour=13)
    journey_zone = start(_send(timezone="UTC"), contact(tz=None), event(at=at), at, key="e1", policy=TOKYO)
    assert journey_zone.effects  # 13:00 UTC is not quiet
    own_hours = start(_send(quiet_hours={"start": "12:00", "end": "14:00"}), contact(tz="UTC"), event(at=at), at,
                      key="e1", policy=TOKYO)
    assert own_hours.trace[-1].until == T0.replace(hour=14)
