"""goal: wait up to a window for a conversion event; record it when it comes, then go on.

Either way the contact continues through the one out-port, so a goal never
changes the path; it measures it. A goal that passes without its event says so
with the reason `goal_window_elapsed`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import Field

from journeys.effects import RecordGoal
from journeys.errors import DurationError
from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register
from journeys.state import Event
from journeys.timing import Duration, parse_duration


class GoalConfig(NodeConfig):
    event: str = Field(min_length=1, max_length=200)
    within: str


@dataclass(frozen=True)
class Goal:
    event: str
    within: Duration


@register
class GoalNode(NodeType[Goal]):
    type = "goal"
    label = "Goal"
    form = "nodes/goal.html"
    config_model = GoalConfig
    suspends = True

    def checks(self, config: GoalConfig) -> Iterable[tuple[str, str]]:
        try:
            if parse_duration(config.within).is_zero:
                yield "duration.invalid", "within must be longer than zero"
        except DurationError as exc:
            yield "duration.invalid", f"within: {exc}"

    def prepare(self, config: GoalConfig) -> Goal:
        return Goal(config.event, parse_duration(config.within))

    def enter(self, prepared: Goal, ctx: StepContext) -> Outcome:
        return Outcome.rest("waiting", prepared.within.after(ctx.now, ctx.tz),
                            waiting_for=prepared.event)

    def resume(self, prepared: Goal, ctx: StepContext) -> Outcome:
        if isinstance(ctx.stimulus, Event):
            ctx.effects.append(RecordGoal(ctx.effect_key(), ctx.node, prepared.event, ctx.now))
            return Outcome.follow("goal_reached", details={"event": prepared.event})
        return Outcome.follow("passed", reason="goal_window_elapsed")
