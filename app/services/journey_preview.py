"""The A/B preview of a journey node: each variant's email(s), side by side, for one contact.

For an `ab_split` node every variant's port is followed to the next send node(s) on that
path; a `send` node previews itself. The graph is the journey's draft (what its editor
shows), read leniently: a draft may be incomplete, and the preview says what it cannot
show instead of refusing. Rendering is `templates.render_preview`, the send's own path,
and the contact's variant is the bucket the live engine would give them.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import AppError, NotFound, ValidationFailed
from app.models import Contact, Event, Journey
from app.services import templates as template_service
from app.services.versions import journey_key
from journeys.nodes.ab_split import choose
from journeys.nodes.base import node_type
from journeys.rendering import RenderedEmail

#: Nodes a preview can start from.
PREVIEWABLE = ("ab_split", "send")
#: How many send nodes one variant's column shows at most (a path may send several emails).
MAX_SENDS_PER_VARIANT = 3


@dataclass
class SendPreview:
    node: str
    template: str
    email: RenderedEmail | None = None
    problem: str | None = None
    version: int | None = None


@dataclass
class VariantPreview:
    key: str | None  # None: a single send node, not a split
    weight: float | None
    label: str | None
    sends: list[SendPreview] = field(default_factory=list)
    note: str | None = None  # e.g. "this path sends nothing"


@dataclass
class NodePreview:
    node: str
    type: str
    variants: list[VariantPreview]
    assigned: str | None  # the variant this contact gets, when it is a split
    event_note: str  # where the trigger event's properties came from


def previewable_nodes(graph: Any) -> list[dict[str, Any]]:
    """The draft's A/B splits and sends, in the graph's order (for the node picker)."""
    return [n for n in _nodes(graph).values() if n.get("type") in PREVIEWABLE]


def trigger_event(graph: Any) -> str | None:
    for node in _nodes(graph).values():
        if node.get("type") == "trigger" and isinstance(node.get("config"), dict):
            name = node["config"].get("event")
            return name if isinstance(name, str) else None
    return None


def _nodes(graph: Any) -> dict[str, dict[str, Any]]:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return {n["id"]: n for n in nodes or [] if isinstance(n, dict) and isinstance(n.get("id"), str)}


def _edges(graph: Any) -> list[dict[str, Any]]:
    edges = graph.get("edges") if isinstance(graph, dict) else None
    return [e for e in edges or [] if isinstance(e, dict)]


def sends_after(graph: Any, start: str, port: str | None) -> list[str]:
    """The first send nodes reached from `start` through `port`, breadth first; a path stops at
    its first send. Waits, conditions and splits on the way are followed through every port."""
    nodes, edges = _nodes(graph), _edges(graph)
    queue = deque(e.get("to") for e in edges if e.get("from") == start and e.get("port") == port)
    seen: set[str] = set()
    found: list[str] = []
    while queue:
        current = queue.popleft()
        if not isinstance(current, str) or current in seen or current not in nodes:
            continue
        seen.add(current)
        if nodes[current].get("type") == "send":
            found.append(current)
            continue
        queue.extend(e.get("to") for e in edges if e.get("from") == current)
    return found


def preview_node(db: Session, journey: Journey, node_id: str, *, contact: Contact | None,
                 sample: dict[str, Any], settings: Settings) -> NodePreview:
    graph = journey.draft
    nodes = _nodes(graph)
    node = nodes.get(node_id)
    if node is None:
        raise NotFound(f"The journey has no node {node_id!r} (any more): pick one of its A/B splits or sends.")
    if node.get("type") not in PREVIEWABLE:
        raise ValidationFailed(f"Node {node_id!r} is a {node.get('type')} node: previews show A/B splits "
                               "and sends.", field="node")
    event, event_note = _event(db, graph, contact, sample)
    render_sample = {"contact": sample.get("contact"), "event": event}
    if node["type"] == "send":
        variants = [VariantPreview(None, None, None, [_send(db, nodes, node_id, contact, render_sample, settings)])]
        return NodePreview(node_id, "send", variants, None, event_note)
    variants, assigned = _split(db, journey, nodes, node, contact, render_sample, settings)
    return NodePreview(node_id, "ab_split", variants, assigned, event_note)


def _split(db: Session, journey: Journey, nodes: dict[str, dict[str, Any]], node: dict[str, Any],
           contact: Contact | None, sample: dict[str, Any], settings: Settings) -> tuple[list[VariantPreview], str | None]:
    raw = node.get("config") if isinstance(node.get("config"), dict) else {}
    variants = []
    for v in raw.get("variants") or []:
        if not isinstance(v, dict) or not isinstance(v.get("key"), str):
            continue
        weight = v.get("weight") if isinstance(v.get("weight"), (int, float)) else None
        preview = VariantPreview(v["key"], weight, v.get("label") if isinstance(v.get("label"), str) else None)
        targets = sends_after(journey.draft, node["id"], v["key"])
        if not targets:
            preview.note = "This path sends no email (or is not connected yet)."
        for target in targets[:MAX_SENDS_PER_VARIANT]:
            preview.sends.append(_send(db, nodes, target, contact, sample, settings))
        variants.append(preview)
    prepared, problems = node_type("ab_split").parse(node["id"], raw)  # type: ignore[union-attr]
    assigned = None
    if prepared is not None:
        who = str(contact.id) if contact is not None else _sample_key(sample)
        assigned = choose(prepared, journey_key(journey.id), node["id"], who)
    return variants, assigned


def _sample_key(sample: dict[str, Any]) -> str:
    # The simulator's contact key: an "id" when the sample has one, else its email.
    person = sample.get("contact") or template_service.SAMPLE_CONTACT
    return str(person.get("id") or person.get("email") or "sample")


def _send(db: Session, nodes: dict[str, dict[str, Any]], node_id: str, contact: Contact | None,
          sample: dict[str, Any], settings: Settings) -> SendPreview:
    config = nodes[node_id].get("config") if isinstance(nodes[node_id].get("config"), dict) else {}
    slug = config.get("template") if isinstance(config.get("template"), str) else ""
    shown = SendPreview(node_id, slug)
    if not slug:
        shown.problem = "This send has no template chosen yet."
        return shown
    try:
        template = template_service.get_template(db, slug)
        version = template_service.latest_version(db, template)
        shown.version = version.number
        shown.email = template_service.render_preview(db, version, contact=contact, sample=sample, settings=settings)
    except AppError as exc:
        shown.problem = exc.detail
    return shown


def _event(db: Session, graph: Any, contact: Contact | None, sample: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A real contact's latest trigger event when they have one (what they would get), else the sample's."""
    name = trigger_event(graph)
    if contact is not None and name:
        row = db.execute(select(Event.properties, Event.occurred_at)
                         .where(Event.contact_id == contact.id, Event.name == name)
                         .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(1)).first()
        if row is not None:
            return dict(row.properties or {}), f"their latest {name} event ({row.occurred_at:%Y-%m-%d %H:%M} UTC)"
        return dict(sample.get("event") or {}), f"the sample event: they have no {name} event"
    return dict(sample.get("event") or {}), "the sample event"
