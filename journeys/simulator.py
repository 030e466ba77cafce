"""The simulator: one contact through one journey on a simulated clock.

It drives the same interpreter as the live engine (`start`, `advance`), taking
timers and scripted events in time order, so a simulated timeline is what the
engine would do. Output is plain JSON-ready data; outcome words are fixed:
entered, waiting, resumed, passed, sent, deferred, skipped, goal_reached,
exited, completed (docs/core.md).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from journeys.addresses import parse_address
from journeys.errors import AddressError, SimulationError
from journeys.graph import Journey
from journeys.interpreter import Decision, TraceStep, admission, advance, start
from journeys.metrics import ORDER_EVENTS, after_order
from journeys.personalisation import template_context
from journeys.state import TIMER, ContactFacts, Event, Policy
from journeys.timing import isoformat, parse_timestamp

SubjectFor = Callable[[str, Mapping[str, Any]], str]
MAX_STIMULI = 10_000
"""Timers and events one simulation handles before it stops (a loop with waits)."""
DEFAULT_HORIZON = timedelta(days=5 * 365)
ENGAGEMENT_EVENTS = {"email_opened": "opened", "email_clicked": "clicked"}


@dataclass(frozen=True)
class ScriptedEvent:
    at: datetime
    event: Event


def contact_from_json(data: Any) -> ContactFacts:
    """ContactFacts from `{"email", "attributes", "timezone", "tags", "metrics", "consent"}`."""
    if not isinstance(data, dict) or not isinstance(data.get("email"), str):
        raise SimulationError("the contact must be an object with an email")
    fields = {"attributes": dict, "metrics": dict, "consent": dict, "tags": list}
    for name, kind in fields.items():
        if not isinstance(data.get(name, kind()), kind):
            raise SimulationError(f"contact.{name} must be a{'n object' if kind is dict else ' list'}")
    try:
        email = parse_address(data["email"])
    except AddressError as exc:
        raise SimulationError(f"contact.email: {exc}") from None
    return ContactFacts(
        key=data.get("id") or email, email=email, timezone=data.get("timezone"),
        locale=data.get("locale"), tags=frozenset(map(str, data.get("tags") or [])),
        attributes=dict(data.get("attributes") or {}), metrics=dict(data.get("metrics") or {}),
        consent={k: str(v) for k, v in (data.get("consent") or {}).items()},
        suppressed=bool(data.get("suppressed", False)))


def events_from_json(data: Any) -> list[Event]:
    """Events from `[{"at": ISO, "event": name, "properties": {}}]`, in time order."""
    if not isinstance(data, list):
        raise SimulationError("events must be a list of {at, event, properties}")
    events = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("event"), str):
            raise SimulationError(f"events[{index}] needs an event name")
        at = parse_timestamp(item.get("at"))
        if at is None:
            raise SimulationError(f"events[{index}].at {item.get('at')!r} is not an ISO 8601 timestamp")
        properties = item.get("properties") or {}
        if not isinstance(properties, dict):
            raise SimulationError(f"events[{index}].properties must be an object")
        events.append(Event(item["event"], at, properties))
    return sorted(events, key=lambda e: e.at)


def simulate(journey: Journey, contact: ContactFacts, events: Sequence[Event], *,
             start_at: datetime | None = None, until: datetime | None = None,
             subject_for: SubjectFor | None = None, policy: Policy = Policy()) -> dict[str, Any]:
    """Run the first event as the trigger, then timers and later events, until `until`."""
    if not events:
        raise SimulationError("a simulation needs at least the trigger event")
    trigger, later = events[0], list(events[1:])
    now = start_at or trigger.at
    horizon = until or now + DEFAULT_HORIZON
    reason = admission(journey, contact, trigger, now)
    if reason is not None:
        return {"steps": [], "final": {"state": "not_enrolled", "node": None, "reason": reason}}
    timeline: list[dict[str, Any]] = []
    decision = start(journey, contact, Event(trigger.name, now, trigger.properties), now,
                     key="simulation", policy=policy)
    _record(timeline, decision, journey, contact, subject_for)
    pending = [e for e in later if e.at >= now]
    for _ in range(MAX_STIMULI):
        state = decision.state
        if state.is_finished:
            break
        if pending and (state.wake_at is None or pending[0].at <= state.wake_at):
            event = pending.pop(0)
            if event.at > horizon:
                break
            _learn(contact, event)
            decision = advance(journey, state, contact, event, event.at, policy=policy)
        elif state.wake_at is not None and state.wake_at <= horizon:
            decision = advance(journey, state, contact, TIMER, state.wake_at, policy=policy)
        else:
            break
        _record(timeline, decision, journey, contact, subject_for)
    return {"steps": timeline, "final": _final(decision)}


def _learn(contact: ContactFacts, event: Event) -> None:
    """What the engine would learn from an event before routing it."""
    if event.name in ORDER_EVENTS:
        contact.metrics = after_order(contact.metrics, event.properties, event.at)
    kind = ENGAGEMENT_EVENTS.get(event.name)
    if kind:
        node = str(event.properties.get("node", ""))
        contact.engagement = {**contact.engagement,
                              kind: contact.engagement.get(kind, frozenset()) | {node}}


def _record(timeline: list[dict[str, Any]], decision: Decision, journey: Journey,
            contact: ContactFacts, subject_for: SubjectFor | None) -> None:
    for step in decision.trace:
        entry = step_as_json(step)
        if step.outcome == "sent":
            template = step.details["template"]
            context = template_context(contact, decision.state.event,
                                       unsubscribe_url="https://example.invalid/unsubscribe")
            entry["subject"] = subject_for(template, context) if subject_for else template
        timeline.append(entry)


def step_as_json(step: TraceStep) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": isoformat(step.at), "node": step.node, "type": step.type,
                             "outcome": step.outcome}
    if step.port is not None:
        entry["port"] = step.port
    if step.until is not None:
        entry["until"] = isoformat(step.until)
    if step.reason is not None:
        entry["reason"] = step.reason
    if step.details:
        entry.update(step.details)
    return entry


def _final(decision: Decision) -> dict[str, Any]:
    state = decision.state
    final: dict[str, Any] = {"state": state.status, "node": state.node}
    if state.exit_reason:
        final["reason"] = state.exit_reason
    if state.status == "waiting":
        final["wake_at"] = isoformat(state.wake_at) if state.wake_at else None
        final["waiting_for"] = state.waiting_for
    return final
