"""exit: the journey ends here for the contact."""
from __future__ import annotations

from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register


class ExitConfig(NodeConfig):
    pass


@register
class ExitNode(NodeType[ExitConfig]):
    type = "exit"
    label = "Exit"
    form = "nodes/exit.html"
    config_model = ExitConfig

    def ports(self, prepared: ExitConfig) -> tuple[str | None, ...]:
        return ()

    def enter(self, prepared: ExitConfig, ctx: StepContext) -> Outcome:
        return Outcome("finish", "completed")
