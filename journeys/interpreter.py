"""The interpreter: a pure function from (journey, enrollment, facts, stimulus, now) to a decision.

`admission` says whether an event may enroll a contact; `start` enrolls it;
`advance` moves an enrollment on a timer or an event. Each returns the new
state, the trace of nodes passed and the effects to perform; nothing is done
here. Each call walks at most `budget` nodes, so no graph can make it spin.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from journeys.effects import Effect
from journeys.graph import Journey
from journeys.nodes.ab_split import BUCKETS, bucket
from journeys.nodes.base import Outcome, StepContext
from journeys.state import ContactFacts, EnrollmentState, Event, Policy, Stimulus, Timer
from journeys.timing import Duration, zone

DEFAULT_BUDGET = 1000
"""Nodes one call may pass; a valid journey comes to rest long before."""


@dataclass(slots=True)
class TraceStep:
    at: datetime
    node: str
    type: str
    outcome: str
    port: str | None = None
    until: datetime | None = None
    reason: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass
class Decision:
    state: EnrollmentState
    trace: list[TraceStep]
    effects: list[Effect]

    @property
    def changed(self) -> bool:
        return bool(self.trace)


@dataclass(frozen=True)
class PastEnrollment:
    entered_at: datetime
    finished: bool


def facts_for(contact: ContactFacts, event: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The names rules read: contact.*, event.*, metrics.*, engagement.*."""
    return {"contact": contact.as_contact_fields(), "event": event, "metrics": contact.metrics,
            "engagement": contact.engagement, "now": now}


def admission(journey: Journey, contact: ContactFacts, event: Event, now: datetime,
              history: Iterable[PastEnrollment] = ()) -> str | None:
    """None when `event` enrolls `contact`, else the reason it does not."""
    trigger = journey.nodes[journey.trigger].prepared
    if event.name != trigger.event:
        return "other_event"
    if not trigger.admits(event.name, facts_for(contact, event.properties, now)):
        return "filtered_out"
    past = list(history)
    if any(not p.finished for p in past):
        return "already_enrolled"
    reentry = journey.settings.reentry
    if past and reentry == "never":
        return "reentry_never"
    if past and isinstance(reentry, Duration):
        last = max(p.entered_at for p in past)
        if reentry.after(last) > now:
            return "reentry_too_soon"
    return None


def in_holdout(journey: Journey, contact: ContactFacts) -> bool:
    share = journey.settings.holdout_percent
    return share > 0 and bucket(journey.key, "holdout", contact.key) < share * BUCKETS / 100


def start(journey: Journey, contact: ContactFacts, event: Event, now: datetime, *, key: str,
          policy: Policy = Policy(), budget: int = DEFAULT_BUDGET) -> Decision:
    """Enroll `contact` (admission already said yes) and walk until it rests."""
    state = EnrollmentState(key=key, status="active", node=journey.trigger, entered_at=now,
                            event=dict(event.properties), holdout=in_holdout(journey, contact))
    state.visits[journey.trigger] = 1
    ctx = _context(journey, state, contact, now, event, policy)
    trigger = journey.nodes[journey.trigger]
    return _walk(ctx, trigger.handler.enter(trigger.prepared, ctx), budget)


def advance(journey: Journey, state: EnrollmentState, contact: ContactFacts, stimulus: Stimulus,
            now: datetime, *, policy: Policy = Policy(), budget: int = DEFAULT_BUDGET) -> Decision:
    """Move an enrollment on: its timer fired, or an event happened to its contact.

    A stimulus that does not concern the enrollment (an early timer, an event it
    does not wait for) returns the state unchanged with an empty trace.
    """
    if state.is_finished or state.node is None:
        return Decision(state, [], [])
    if isinstance(stimulus, Timer):
        if state.wake_at is None or now < state.wake_at:
            return Decision(state, [], [])
    elif stimulus.name != state.waiting_for:
        if stimulus.name in journey.settings.exit_events:
            return _exit_on_event(journey, state, stimulus, now)
        return Decision(state, [], [])
    work = state.copy()
    work.wake_at, work.waiting_for = None, None
    ctx = _context(journey, work, contact, now, stimulus, policy)
    spec = journey.nodes[work.node]  # type: ignore[index]
    return _walk(ctx, spec.handler.resume(spec.prepared, ctx), budget)


def _exit_on_event(journey: Journey, state: EnrollmentState, event: Event,
                   now: datetime) -> Decision:
    work = state.copy()
    work.status, work.exit_reason = "exited", "exit_event"
    work.wake_at, work.waiting_for = None, None
    work.steps += 1
    node = work.node or journey.trigger
    step = TraceStep(now, node, journey.nodes[node].type, "exited", reason="exit_event",
                     details={"event": event.name})
    return Decision(work, [step], [])


def _context(journey: Journey, state: EnrollmentState, contact: ContactFacts, now: datetime,
             stimulus: Stimulus | None, policy: Policy) -> StepContext:
    tz = zone(contact.timezone, journey.settings.timezone or policy.default_timezone)
    return StepContext(journey, state.node or journey.trigger, state, contact, now, stimulus,
                       policy, tz)


def _walk(ctx: StepContext, outcome: Outcome, budget: int) -> Decision:
    journey, state, trace = ctx.journey, ctx.state, []
    nodes, successors = journey.nodes, journey.successors
    for _ in range(budget):
        trace.append(_trace(ctx, outcome))
        state.steps += 1
        if outcome.kind == "rest":
            state.status, state.wake_at, state.waiting_for = "waiting", outcome.until, outcome.waiting_for
            return Decision(state, trace, ctx.effects)
        target = successors[ctx.node].get(outcome.port) if outcome.kind == "follow" else None
        if target is None:
            state.status = "completed"
            return Decision(state, trace, ctx.effects)
        ctx.node = state.node = target
        state.visits[target] = state.visits.get(target, 0) + 1
        ctx.stimulus = None
        spec = nodes[target]
        outcome = spec.handler.enter(spec.prepared, ctx)
    state.status, state.exit_reason = "exited", "step_budget"
    trace.append(TraceStep(ctx.now, ctx.node, nodes[ctx.node].type, "exited", reason="step_budget"))
    return Decision(state, trace, ctx.effects)


def _trace(ctx: StepContext, outcome: Outcome) -> TraceStep:
    return TraceStep(ctx.now, ctx.node, ctx.journey.nodes[ctx.node].type, outcome.outcome,
                     outcome.port, outcome.until, outcome.reason, outcome.details)
