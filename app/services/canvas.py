"""Read-only queries behind the canvas's settings panel: the event names seen, the fields a
rule can read, the templates a send can pick. Each reads a bounded sample, so a workspace
with millions of events opens the panel as fast as an empty one."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Contact, Event, Template

EVENT_NAMES_MAX = 300
SAMPLE_ROWS = 500
BUILT_IN_FIELDS = ("contact.email", "contact.tags", "contact.timezone", "contact.locale")
METRIC_FIELDS = ("metrics.orders_count", "metrics.total_spent", "metrics.last_order_at")
KNOWN_EVENTS = ("signed_up", "checkout_started", "cart_abandoned", "order_placed", "order_fulfilled",
                "email_opened", "email_clicked")
"""Offered before the shop has sent anything, so a first journey can be drawn."""


def event_names(db: Session) -> list[str]:
    """Distinct event names the workspace has received (the index on name serves it), with the
    usual shop events for a new workspace."""
    seen = db.scalars(select(Event.name).distinct().order_by(Event.name).limit(EVENT_NAMES_MAX)).all()
    return sorted(set(seen) | set(KNOWN_EVENTS))


def rule_fields(db: Session, graph: Any) -> list[str]:
    """Field names to suggest in a rule row: built-ins, attributes and trigger-event properties
    seen in recent rows, metrics, and engagement with each send node of `graph`."""
    attributes: set[str] = set()
    for attrs in db.scalars(select(Contact.attributes).order_by(Contact.id.desc()).limit(SAMPLE_ROWS)):
        if isinstance(attrs, dict):
            attributes.update(k for k in attrs if isinstance(k, str))
    properties: set[str] = set()
    trigger = _trigger_event(graph)
    if trigger:
        rows = db.scalars(select(Event.properties).where(Event.name == trigger)
                          .order_by(Event.id.desc()).limit(SAMPLE_ROWS))
        for props in rows:
            if isinstance(props, dict):
                properties.update(k for k in props if isinstance(k, str))
    sends = [n["id"] for n in _nodes(graph) if n.get("type") == "send"]
    engagement = ["engagement.opened", "engagement.clicked"]
    engagement += [f"engagement.{what}.{node}" for node in sends for what in ("opened", "clicked")]
    return [*BUILT_IN_FIELDS, *(f"contact.{a}" for a in sorted(attributes)),
            *(f"event.{p}" for p in sorted(properties)), *METRIC_FIELDS, *engagement]


def template_choices(db: Session) -> list[dict[str, str]]:
    """Templates a send node can use (not archived), by name."""
    rows = db.execute(select(Template.slug, Template.name, Template.category)
                      .where(Template.archived.is_(False)).order_by(Template.name, Template.slug))
    return [{"slug": slug, "name": name, "category": category} for slug, name, category in rows]


def _nodes(graph: Any) -> list[dict[str, Any]]:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return [n for n in nodes or [] if isinstance(n, dict) and isinstance(n.get("id"), str)]


def _trigger_event(graph: Any) -> str | None:
    for node in _nodes(graph):
        config = node.get("config")
        if node.get("type") == "trigger" and isinstance(config, dict) and isinstance(config.get("event"), str):
            return config["event"]
    return None
