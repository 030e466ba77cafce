"""Validation: every problem with a journey at once, each naming what it concerns.

`validate` never raises, whatever JSON it is given; `load` returns a runnable
Journey or raises InvalidJourney with the same problems. Errors block
publishing; warnings are shown and the marketer may publish anyway.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import networkx as nx

from journeys.errors import InvalidJourney
from journeys.graph import SCHEMA_VERSION, Edge, Journey, NodeSpec, build_graph
from journeys.nodes import NODE_TYPES
from journeys.problems import Problem, Report, error, warning
from journeys.rules import constant_value
from journeys.settings import JourneySettings, parse_settings

MAX_NODES = 500
MAX_EDGES = 2000
MAX_ID = 64


@dataclass(frozen=True)
class TemplateInfo:
    """What validation needs to know about a template the journey may send."""

    category: str = "marketing"
    has_unsubscribe_link: bool = True


def validate(data: Any, templates: Mapping[str, TemplateInfo] | None = None) -> Report:
    """Every error and warning for `data`; `templates` None skips template checks."""
    _, report = analyse(data, templates, key="validation")
    return report


def load(data: Any, key: str, templates: Mapping[str, TemplateInfo] | None = None) -> Journey:
    """A runnable journey, or InvalidJourney listing every error."""
    journey, report = analyse(data, templates, key=key)
    if journey is None:
        raise InvalidJourney(list(report.errors))
    return journey


def analyse(data: Any, templates: Mapping[str, TemplateInfo] | None,
            key: str) -> tuple[Journey | None, Report]:
    try:
        return _analyse(data, templates, key)
    except RecursionError:
        return None, Report((error("journey.invalid", "the journey nests too deeply"),), ())


def _analyse(data: Any, templates: Mapping[str, TemplateInfo] | None,
             key: str) -> tuple[Journey | None, Report]:
    top = _top_level(data)
    if top:
        return None, Report(tuple(top), ())
    errors: list[Problem] = []
    settings, setting_problems = parse_settings(data.get("settings"))
    errors += setting_problems
    nodes, node_problems = _nodes(data["nodes"])
    errors += node_problems
    types = _types(data["nodes"])
    edges, shaped, edge_problems = _edges(data["edges"], nodes, types)
    errors += edge_problems
    trigger, structure_problems = _structure(nodes, edges, shaped, types)
    errors += structure_problems
    errors += _templates(nodes, templates)
    warnings = _warnings(nodes, settings, templates)
    report = Report(tuple(errors), tuple(warnings))
    if errors or settings is None or trigger is None or trigger not in nodes:
        return None, report
    successors: dict[str, dict[str | None, str]] = {node_id: {} for node_id in nodes}
    for edge in edges:
        successors[edge.source][edge.port] = edge.target
    return Journey(key, settings, nodes, tuple(edges), trigger, successors,
                   tuple(warnings), data), report


def _top_level(data: Any) -> list[Problem]:
    if not isinstance(data, dict):
        return [error("journey.invalid", "a journey must be a JSON object")]
    problems = []
    if data.get("schema") != SCHEMA_VERSION:
        problems.append(error("schema.version",
                              f"schema must be {SCHEMA_VERSION}, not {data.get('schema')!r}"))
    for name, limit in (("nodes", MAX_NODES), ("edges", MAX_EDGES)):
        value = data.get(name)
        if not isinstance(value, list):
            problems.append(error("journey.invalid", f"{name} must be a list"))
        elif len(value) > limit:
            problems.append(error("journey.too_large", f"a journey may have at most {limit} {name}"))
    if "settings" in data and data["settings"] is not None and not isinstance(data["settings"], dict):
        problems.append(error("settings.invalid", "settings must be an object"))
    return problems


def _types(raw_nodes: list[Any]) -> dict[str, Any]:
    """id → declared type of every node with an id, valid or not."""
    return {n["id"]: n.get("type") for n in raw_nodes
            if isinstance(n, dict) and isinstance(n.get("id"), str)}


def _nodes(raw_nodes: list[Any]) -> tuple[dict[str, NodeSpec], list[Problem]]:
    nodes: dict[str, NodeSpec] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict):
            problems.append(error("node.invalid", f"nodes[{index}] must be an object"))
            continue
        node_id = raw.get("id")
        if not isinstance(node_id, str) or not node_id.strip() or len(node_id) > MAX_ID:
            problems.append(error("node.id", f"nodes[{index}] needs an id of 1 to {MAX_ID} characters"))
            continue
        if node_id in seen:
            problems.append(error("node.duplicate", f"two nodes share the id {node_id!r}", node_id))
            continue
        seen.add(node_id)
        handler = NODE_TYPES.get(raw.get("type"))  # type: ignore[arg-type]
        if handler is None:
            known = ", ".join(sorted(NODE_TYPES))
            problems.append(error("node.type_unknown",
                                  f"unknown node type {raw.get('type')!r}; known: {known}", node_id))
            continue
        prepared, config_problems = handler.parse(node_id, raw.get("config"))
        problems += config_problems
        if prepared is not None:
            nodes[node_id] = NodeSpec(node_id, handler.type, handler, prepared)
    return nodes, problems


def _edges(raw_edges: list[Any], nodes: dict[str, NodeSpec],
           types: dict[str, Any]) -> tuple[list[Edge], list[Edge], list[Problem]]:
    """(edges between valid nodes, edges between any declared nodes, problems).

    An edge touching a node whose config is wrong is not an edge problem: the
    node has its own error, and the edge still counts for reachability.
    """
    edges: list[Edge] = []
    shaped: list[Edge] = []
    problems: list[Problem] = []
    for index, raw in enumerate(raw_edges):
        if not isinstance(raw, dict) or not isinstance(raw.get("from"), str) \
                or not isinstance(raw.get("to"), str) \
                or not isinstance(raw.get("port"), (str, type(None))):
            problems.append(error("edge.invalid",
                                  f"edges[{index}] needs text 'from' and 'to' and an optional 'port'"))
            continue
        edge = Edge(raw["from"], raw["to"], raw.get("port"))
        where = (edge.source, edge.target, edge.port)
        missing = [end for end in (edge.source, edge.target) if end not in types]
        if missing:
            problems.append(error("edge.missing_node",
                                  f"an edge connects {edge.source!r} to {edge.target!r}, but "
                                  f"there is no node {missing[0]!r}",
                                  edge.source if edge.source in types else None, where))
            continue
        shaped.append(edge)
        if edge.source in nodes and edge.target in nodes:
            edges.append(edge)
    return edges, shaped, problems


def _structure(nodes: dict[str, NodeSpec], edges: list[Edge], shaped: list[Edge],
               types: dict[str, Any]) -> tuple[str | None, list[Problem]]:
    problems = _ports(nodes, shaped)
    triggers = [node_id for node_id, kind in types.items() if kind == "trigger"]
    if len(triggers) != 1:
        where = triggers[1] if len(triggers) > 1 else None
        problems.append(error("trigger.count",
                              f"a journey needs exactly one trigger, this one has {len(triggers)}", where))
        return None, problems
    trigger = triggers[0]
    graph = build_graph(types, shaped)
    if graph.in_degree(trigger):
        problems.append(error("trigger.inbound", "no edge may lead back into the trigger", trigger))
    reachable = nx.descendants(graph, trigger) | {trigger}
    for node_id in types:
        if node_id not in reachable:
            problems.append(error("node.unreachable",
                                  "no path leads here from the trigger", node_id))
    problems += _wait_free_cycles(types, graph)
    return trigger, problems


def _ports(nodes: dict[str, NodeSpec], edges: list[Edge]) -> list[Problem]:
    problems: list[Problem] = []
    used: dict[tuple[str, str | None], Edge] = {}
    for edge in edges:
        spec = nodes.get(edge.source)
        if spec is None:
            continue
        ports = spec.handler.ports(spec.prepared)
        where = (edge.source, edge.target, edge.port)
        if edge.port not in ports:
            allowed = ", ".join(repr(p) if p else "the unnamed port" for p in ports) or "none"
            problems.append(error("port.unknown", f"{spec.type} has no port {edge.port!r} "
                                  f"(its ports: {allowed})", edge.source, where))
        elif (edge.source, edge.port) in used:
            problems.append(error("port.duplicate", f"port {edge.port or 'next'} is connected twice",
                                  edge.source, where))
        else:
            used[(edge.source, edge.port)] = edge
    for spec in nodes.values():
        for port in spec.handler.ports(spec.prepared):
            if (spec.id, port) not in used:
                name = f"port {port!r}" if port else "a next step"
                problems.append(error("port.missing", f"{spec.type} needs {name}: connect it "
                                      "to another node or an exit", spec.id))
    return problems


def _wait_free_cycles(types: dict[str, Any], graph: nx.MultiDiGraph) -> list[Problem]:
    suspending = {name for name, handler in NODE_TYPES.items() if handler.suspends}
    moving = graph.subgraph([n for n, kind in types.items() if kind not in suspending])
    problems = []
    for component in nx.strongly_connected_components(moving):
        looped = len(component) > 1 or any(moving.has_edge(n, n) for n in component)
        if not looped:
            continue
        members = ", ".join(sorted(component))
        for node_id in sorted(component):
            problems.append(error("cycle.no_wait", f"a loop with no wait on it ({members}) "
                                  "would repeat without end", node_id))
    return problems


def _templates(nodes: dict[str, NodeSpec],
               templates: Mapping[str, TemplateInfo] | None) -> list[Problem]:
    if templates is None:
        return []
    return [error("template.unknown", f"template {spec.prepared.template!r} does not exist", spec.id)
            for spec in nodes.values()
            if spec.type == "send" and spec.prepared.template not in templates]


def _warnings(nodes: dict[str, NodeSpec], settings: JourneySettings | None,
              templates: Mapping[str, TemplateInfo] | None) -> list[Problem]:
    found: list[Problem] = []
    if settings is not None and not settings.exit_events:
        found.append(warning("settings.no_exit_events", "no exit events: contacts stay in the "
                             "journey even after they do what it is meant to achieve"))
    for spec in nodes.values():
        found += _node_warnings(spec, templates)
    return found


def _node_warnings(spec: NodeSpec, templates: Mapping[str, TemplateInfo] | None) -> list[Problem]:
    prepared, found = spec.prepared, []
    if spec.type == "send" and prepared.category == "marketing" and templates:
        info = templates.get(prepared.template)
        if info is not None and not info.has_unsubscribe_link:
            found.append(warning("send.no_unsubscribe", f"template {prepared.template!r} has no "
                                 "unsubscribe link; marketing mail must carry one", spec.id))
    if spec.type == "wait" and prepared.longest is not None \
            and prepared.longest.approximate() > timedelta(days=366):
        found.append(warning("wait.over_a_year", "this wait is longer than a year", spec.id))
    if spec.type == "condition":
        constant = constant_value(prepared.rule)
        if constant is not None:
            never = "no" if constant else "yes"
            found.append(warning("branch.never_taken", f"the rule is always {str(constant).lower()}, "
                                 f"so the {never!r} branch is never taken", spec.id))
    if spec.type == "ab_split":
        previous = 0
        for variant, bound in zip(prepared.keys, prepared.bounds):
            if bound == previous:
                found.append(warning("branch.never_taken",
                                     f"variant {variant!r} has no weight, so it is never taken", spec.id))
            previous = bound
    return found
