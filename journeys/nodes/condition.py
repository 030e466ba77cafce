"""condition: a RULE decides between the yes and the no port."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register
from journeys.rules import Predicate, compile_rule, rule_problems


class ConditionConfig(NodeConfig):
    rule: dict[str, Any]


@dataclass(frozen=True)
class Condition:
    test: Predicate
    rule: dict[str, Any]


@register
class ConditionNode(NodeType[Condition]):
    type = "condition"
    label = "Condition"
    form = "nodes/condition.html"
    config_model = ConditionConfig

    def ports(self, prepared: Condition) -> tuple[str | None, ...]:
        return ("yes", "no")

    def checks(self, config: ConditionConfig) -> Iterable[tuple[str, str]]:
        yield from rule_problems(config.rule)

    def prepare(self, config: ConditionConfig) -> Condition:
        return Condition(compile_rule(config.rule), config.rule)

    def enter(self, prepared: Condition, ctx: StepContext) -> Outcome:
        return Outcome.follow("passed", "yes" if prepared.test(ctx.facts) else "no")
