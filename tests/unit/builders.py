"""Small builders for journey JSON and contacts in core tests."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from journeys import ContactFacts, Event, load
from journeys.graph import Journey

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)  # a Tuesday, 13:00 in Warsaw


def node(node_id: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "config": config}


def edge(source: str, target: str, port: str | None = None) -> dict[str, Any]:
    data = {"from": source, "to": target}
    if port is not None:
        data["port"] = port
    return data


def chain(*ids: str) -> list[dict[str, Any]]:
    return [edge(a, b) for a, b in zip(ids, ids[1:])]


def journey_json(nodes: list[dict[str, Any]], edges: list[dict[str, Any]],
                 **settings: Any) -> dict[str, Any]:
    return {"schema": 1, "settings": {"exit_events": ["order_placed"], **settings},
            "nodes": nodes, "edges": edges}


def build(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], key: str = "j1",
          **settings: Any) -> Journey:
    return load(journey_json(nodes, edges, **settings), key)


def linear(*middle: dict[str, Any], event: str = "signup", **settings: Any) -> Journey:
    """trigger → middle… → exit."""
    nodes = [node("start", "trigger", event=event), *middle, {"id": "end", "type": "exit"}]
    return build(nodes, chain(*[n["id"] for n in nodes]), **settings)


def contact(key: str = "c1", *, tz: str | None = "Europe/Warsaw", consent: str = "subscribed",
            **attributes: Any) -> ContactFacts:
    return ContactFacts(key=key, email=f"{key}@example.com", timezone=tz,
                        attributes=attributes, consent={"marketing": consent})


def event(name: str = "signup", at: datetime = T0, **properties: Any) -> Event:
    return Event(name, at, properties)
