"""Core benchmark: contact steps per second through a realistic 12-node journey.

A step is one node passed by one contact. Contacts enter, wait, branch, get
mail, wait again, convert or not and leave; every timer is fired in turn. Pure
core only (rendering excluded), on one core. Beside the figure it prints a
reference measured in the same run: a bare walk of the same graph's edges with
no node logic, so the interpreter's own overhead shows as a ratio.

    .venv/bin/python bench/core_bench.py [--steps 1000000]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import Result, add_json_flag, emit  # noqa: E402

from journeys import TIMER, ContactFacts, Event, advance, load, start  # noqa: E402

TARGET = 50_000
T0 = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)

JOURNEY = {
    "schema": 1,
    "settings": {"exit_events": ["unsubscribed"], "quiet_hours": {"start": "22:00", "end": "07:00"},
                 "frequency_cap": {"max": 5, "per": "P1D"}, "holdout_percent": 5},
    "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "checkout_started",
                                                       "filter": {"field": "event.total", "op": "gt", "value": 0}}},
        {"id": "wait_order", "type": "wait", "config": {"event": "order_placed", "timeout": "PT1H"}},
        {"id": "vip", "type": "condition", "config": {"rule": {"any": [
            {"field": "metrics.orders_count", "op": "gte", "value": 3},
            {"field": "contact.tags", "op": "contains", "value": "vip"}]}}},
        {"id": "ab", "type": "ab_split", "config": {"variants": [{"key": "A", "weight": 50},
                                                                  {"key": "B", "weight": 50}]}},
        {"id": "remind_a", "type": "send", "config": {"template": "cart-a"}},
        {"id": "remind_b", "type": "send", "config": {"template": "cart-b"}},
        {"id": "remind_vip", "type": "send", "config": {"template": "cart-vip"}},
        {"id": "tag", "type": "update_contact", "config": {"add_tags": ["cart_reminded"]}},
        {"id": "wait_day", "type": "wait", "config": {"duration": "P1D"}},
        {"id": "goal", "type": "goal", "config": {"event": "order_placed", "within": "P3D"}},
        {"id": "bought", "type": "exit"},
        {"id": "end", "type": "exit"},
    ],
    "edges": [
        {"from": "start", "to": "wait_order"},
        {"from": "wait_order", "to": "bought", "port": "event"},
        {"from": "wait_order", "to": "vip", "port": "timeout"},
        {"from": "vip", "to": "remind_vip", "port": "yes"}, {"from": "vip", "to": "ab", "port": "no"},
        {"from": "ab", "to": "remind_a", "port": "A"}, {"from": "ab", "to": "remind_b", "port": "B"},
        {"from": "remind_a", "to": "tag"}, {"from": "remind_b", "to": "tag"},
        {"from": "remind_vip", "to": "tag"}, {"from": "tag", "to": "wait_day"},
        {"from": "wait_day", "to": "goal"}, {"from": "goal", "to": "end"},
    ],
}


def contacts(n: int) -> list[ContactFacts]:
    zones = ["Europe/Warsaw", "Europe/Berlin", "America/New_York", "Europe/London", None]
    return [ContactFacts(key=f"c{i}", email=f"c{i}@example.com", timezone=zones[i % 5],
                         tags=frozenset({"vip"}) if i % 7 == 0 else frozenset(),
                         metrics={"orders_count": i % 5}, consent={"marketing": "subscribed"})
            for i in range(n)]


def run_interpreter(target_steps: int) -> tuple[int, float]:
    journey = load(JOURNEY, "bench")
    people = contacts(2000)
    steps, i = 0, 0
    began = time.perf_counter()
    while steps < target_steps:
        who = people[i % len(people)]
        who.marketing_sends = ()
        at = T0 + timedelta(minutes=i % 1440)
        decision = start(journey, who, Event("checkout_started", at, {"total": 99.0}), at, key=f"e{i}")
        steps += len(decision.trace)
        while not decision.state.is_finished:
            state = decision.state
            if i % 4 == 0 and state.waiting_for == "order_placed":
                decision = advance(journey, state, who, Event("order_placed", state.wake_at, {}),
                                   state.wake_at)
            else:
                decision = advance(journey, state, who, TIMER, state.wake_at)
            steps += len(decision.trace)
        i += 1
    return steps, time.perf_counter() - began


def run_bare_walk(target_steps: int) -> tuple[int, float]:
    """Reference: follow the same edges with no node logic at all."""
    successors: dict[str, list[str]] = {}
    for edge in JOURNEY["edges"]:
        successors.setdefault(edge["from"], []).append(edge["to"])
    steps, i = 0, 0
    began = time.perf_counter()
    while steps < target_steps:
        current: str | None = "start"
        while current is not None:
            steps += 1
            options = successors.get(current)
            current = options[i % len(options)] if options else None
        i += 1
    return steps, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    add_json_flag(parser)
    args = parser.parse_args()
    steps, seconds = run_interpreter(args.steps)
    rate = steps / seconds
    bare_steps, bare_seconds = run_bare_walk(args.steps)
    bare = bare_steps / bare_seconds
    print(f"journey: 12 nodes; steps: {steps:,} in {seconds:.2f} s")
    print(f"interpreter: {rate:,.0f} steps/s on one core")
    print(f"reference bare graph walk: {bare:,.0f} steps/s (interpreter costs {bare / rate:.1f}x a bare walk)")
    verdict = "PASS" if rate >= TARGET else "FAIL"
    print(f"ratio to target: {rate / TARGET:.2f}x of {TARGET:,} steps/s {verdict}")
    emit([Result("core: interpreter steps/s (one core)", rate, "steps/s", bare, "bare graph walk", TARGET)],
         args.json)


if __name__ == "__main__":
    main()
