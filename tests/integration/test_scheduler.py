"""Only one scheduler acts at a time: a Redis lock with expiry, not a convention."""
from __future__ import annotations

import time

from app.scheduler import Scheduler


def test_only_one_of_two_schedulers_runs_the_tick_tasks(rconn):
    ran: list[str] = []
    a = Scheduler(rconn, [lambda: ran.append("a")], lock_ttl=2)
    b = Scheduler(rconn, [lambda: ran.append("b")], lock_ttl=2)
    for _ in range(5):
        a.tick()
        b.tick()
    assert ran == ["a"] * 5
    assert a.is_leader and not b.is_leader


def test_a_standby_takes_over_when_the_leader_stops_renewing(rconn):
    ran: list[str] = []
    a = Scheduler(rconn, [lambda: ran.append("a")], lock_ttl=0.5)
    b = Scheduler(rconn, [lambda: ran.append("b")], lock_ttl=0.5)
    assert a.tick() and not b.tick()
    time.sleep(0.7)  # a died without releasing: its lock expires
    assert b.tick()
    assert not a.tick()  # the old leader notices it lost the lead
    assert ran == ["a", "b"]


def test_a_clean_stop_hands_over_at_once(rconn):
    a = Scheduler(rconn, [], lock_ttl=30)
    b = Scheduler(rconn, [], lock_ttl=30)
    assert a.tick()
    a.release()
    assert b.tick()


def test_leadership_is_retaken_after_redis_is_wiped(rconn):
    a = Scheduler(rconn, [], lock_ttl=30)
    assert a.tick()
    rconn.flushdb()
    b = Scheduler(rconn, [], lock_ttl=30)
    results = {a.tick(), b.tick()}
    assert results == {True, False}  # exactly one leads again


def test_a_failing_task_does_not_stop_the_others(rconn):
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    s = Scheduler(rconn, [broken, lambda: ran.append("ok")])
    assert s.tick() and ran == ["ok"]
