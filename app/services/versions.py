"""Journey versions: publish an immutable graph, load it as a runnable journey.

A published version never changes, so its parsed form is cached per process
by version id. Publishing validates against the templates that exist; contacts
already inside keep their version unless the publisher asks to move those
waiting at a wait node the new version also has.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Enrollment, Journey, JourneyStatus, JourneyVersion, Template, TemplateVersion
from journeys.graph import Journey as RunnableJourney
from journeys.problems import Report
from journeys.rendering import template_has_unsubscribe_link
from journeys.validation import TemplateInfo, analyse, load

_CACHE_SIZE = 256
_cache: OrderedDict[tuple[object, ...], RunnableJourney] = OrderedDict()


def journey_key(journey_id: int) -> str:
    """Stable across versions, so A/B buckets and holdout do not move on publish."""
    return f"journey-{journey_id}"


def runnable(version: JourneyVersion) -> RunnableJourney:
    # Not the id alone: SQLite may hand a deleted row's id to a new one.
    key = (version.id, version.journey_id, version.number, version.published_at)
    cached = _cache.get(key)
    if cached is not None:
        _cache.move_to_end(key)
        return cached
    loaded = load(version.graph, journey_key(version.journey_id))
    _cache[key] = loaded
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return loaded


def template_infos(db: Session) -> dict[str, TemplateInfo]:
    """What validation needs about every live template: category and unsubscribe link."""
    latest = (select(TemplateVersion.template_id, func.max(TemplateVersion.number).label("n"))
              .group_by(TemplateVersion.template_id).subquery())
    rows = db.execute(
        select(Template.slug, Template.category, TemplateVersion.mjml)
        .join(latest, latest.c.template_id == Template.id)
        .join(TemplateVersion, (TemplateVersion.template_id == Template.id)
              & (TemplateVersion.number == latest.c.n))
        .where(Template.archived.is_(False)))
    return {slug: TemplateInfo(category, template_has_unsubscribe_link(mjml))  # type: ignore[arg-type]
            for slug, category, mjml in rows}


def check(db: Session, journey: Journey, graph: Any) -> Report:
    _, report = analyse(graph, template_infos(db), key=journey_key(journey.id))
    return report


@dataclass
class Impact:
    """Per node: waiting contacts that would move to the new version, and that stay."""
    move: dict[str, int] = field(default_factory=dict)
    stay: dict[str, int] = field(default_factory=dict)


def impact(db: Session, journey: Journey, graph: Any) -> Impact:
    waits = _wait_nodes(graph)
    result = Impact()
    rows = db.execute(select(Enrollment.node, func.count()).where(
        Enrollment.journey_id == journey.id, Enrollment.status == "waiting").group_by(Enrollment.node))
    for node, count in rows:
        (result.move if node in waits else result.stay)[node] = count
    return result


def publish(db: Session, journey: Journey, graph: Any, *, now: datetime, user_id: int | None = None,
            notes: str = "", migrate_waiting: bool = False) -> JourneyVersion:
    """A new immutable version; refuses (ValidationFailed) while the graph has errors."""
    report = check(db, journey, graph)
    if report.errors:
        first = report.errors[0]
        raise ValidationFailed(f"the journey has {len(report.errors)} error(s); first: "
                               f"{first.node or '-'}: {first.message}", field="graph",
                               problems=[p.as_dict() for p in report.errors])
    number = (db.scalar(select(func.max(JourneyVersion.number))
                        .where(JourneyVersion.journey_id == journey.id)) or 0) + 1
    version = JourneyVersion(journey_id=journey.id, number=number, graph=graph,
                             published_by_id=user_id, published_at=now, notes=notes)
    db.add(version)
    db.flush()
    if migrate_waiting:
        waits = _wait_nodes(graph)
        db.execute(update(Enrollment).where(
            Enrollment.journey_id == journey.id, Enrollment.status == "waiting",
            Enrollment.node.in_(waits)).values(version_id=version.id, updated_at=now))
    journey.draft = graph
    journey.updated_at = now
    if journey.status in (JourneyStatus.draft, JourneyStatus.archived):
        journey.status = JourneyStatus.active
    return version


def latest_versions(db: Session) -> list[JourneyVersion]:
    """The newest version of every active journey: where new contacts enter."""
    newest = (select(JourneyVersion.journey_id, func.max(JourneyVersion.number).label("n"))
              .group_by(JourneyVersion.journey_id).subquery())
    return list(db.scalars(
        select(JourneyVersion)
        .join(newest, (newest.c.journey_id == JourneyVersion.journey_id)
              & (newest.c.n == JourneyVersion.number))
        .join(Journey, Journey.id == JourneyVersion.journey_id)
        .where(Journey.status == JourneyStatus.active)
        .order_by(JourneyVersion.journey_id)))


def _wait_nodes(graph: Any) -> set[str]:
    nodes = graph.get("nodes", []) if isinstance(graph, dict) else []
    return {n["id"] for n in nodes if isinstance(n, dict) and n.get("type") == "wait"}
