"""A journey ready to run: typed nodes, port-keyed successors and its networkx graph.

The graph is a MultiDiGraph keyed by port, because a condition may send both
`yes` and `no` to one node. We store our own schema-1 JSON, never networkx's
`node_link_data`, whose format shifts between releases.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from journeys.nodes.base import NodeType
from journeys.problems import Problem
from journeys.settings import JourneySettings

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class NodeSpec:
    id: str
    type: str
    handler: NodeType[Any]
    prepared: Any


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    port: str | None


@dataclass(frozen=True)
class Journey:
    """A validated journey version. `key` identifies the journey (not the version):
    A/B buckets and holdouts hash it, so republishing keeps contacts' variants."""

    key: str
    settings: JourneySettings
    nodes: Mapping[str, NodeSpec]
    edges: tuple[Edge, ...]
    trigger: str
    successors: Mapping[str, Mapping[str | None, str]]
    warnings: tuple[Problem, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)

    @property
    def trigger_event(self) -> str:
        return self.nodes[self.trigger].prepared.event  # type: ignore[no-any-return]

    def graph(self) -> nx.MultiDiGraph:
        return build_graph(self.nodes, self.edges)

    def send_nodes(self) -> list[NodeSpec]:
        return [spec for spec in self.nodes.values() if spec.type == "send"]


def build_graph(nodes: Mapping[str, Any], edges: tuple[Edge, ...] | list[Edge]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for node_id, spec in nodes.items():
        graph.add_node(node_id, type=getattr(spec, "type", spec))
    for edge in edges:
        graph.add_edge(edge.source, edge.target, key=edge.port)
    return graph
