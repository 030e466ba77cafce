"""Node types: one module each, registered by type in NODE_TYPES."""
from journeys.nodes import (  # noqa: F401 - importing registers each type
    ab_split,
    condition,
    exit,
    goal,
    send,
    trigger,
    update_contact,
    wait,
    webhook,
)
from journeys.nodes.base import NEXT, NODE_TYPES, NodeType, Outcome, StepContext, node_type

__all__ = ["NEXT", "NODE_TYPES", "NodeType", "Outcome", "StepContext", "node_type"]
