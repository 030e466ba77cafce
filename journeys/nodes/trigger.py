"""trigger: the event that enrolls a contact, with an optional RULE filter."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register
from journeys.rules import Predicate, compile_rule, rule_problems


class TriggerConfig(NodeConfig):
    event: str = Field(min_length=1, max_length=200)
    filter: dict[str, Any] | None = None


@dataclass(frozen=True)
class Trigger:
    event: str
    matches_filter: Predicate | None

    def admits(self, name: str, facts: Mapping[str, Any]) -> bool:
        if name != self.event:
            return False
        return self.matches_filter is None or self.matches_filter(facts)


@register
class TriggerNode(NodeType[Trigger]):
    type = "trigger"
    label = "Trigger"
    form = "nodes/trigger.html"
    config_model = TriggerConfig

    def checks(self, config: TriggerConfig) -> Iterable[tuple[str, str]]:
        if config.filter is not None:
            yield from rule_problems(config.filter, "filter")

    def prepare(self, config: TriggerConfig) -> Trigger:
        return Trigger(config.event, compile_rule(config.filter) if config.filter else None)

    def enter(self, prepared: Trigger, ctx: StepContext) -> Outcome:
        return Outcome.follow("entered")
