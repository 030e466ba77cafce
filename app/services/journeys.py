"""Journeys as people and scripts manage them: a draft graph that may be edited freely (and
may be invalid), published into immutable versions, paused, resumed and archived.

Every change is recorded in the audit log. Reading what happens inside a journey (the list,
counts per node, statistics) lives in app/services/journey_stats.py and is re-exported here.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.models import AuditEntry, Journey, JourneyStatus, JourneyVersion, User
from app.services import lifecycle, versions
from app.services.journey_stats import (JourneyStats, JourneySummary, NodeCounts,  # noqa: F401 - part of
                                        journey_stats, list_journeys, node_counts)  # this module's contract
from journeys.graph import SCHEMA_VERSION
from journeys.problems import Report
from journeys.validation import MAX_EDGES, MAX_NODES

NAME_MAX = 200
#: What a journey made without a graph starts from: a trigger to configure.
STARTER_GRAPH: dict[str, Any] = {
    "schema": SCHEMA_VERSION, "settings": {},
    "nodes": [{"id": "start", "type": "trigger", "config": {"event": "order_placed"}}],
    "edges": [], "ui": {"positions": {"start": [120, 40]}},
}


@dataclass(frozen=True)
class PublishImpact:
    """What publishing the draft would do, for the confirmation a publisher sees."""

    live_version: int | None
    #: Waiting contacts per node: those at a wait node the draft also has may move to it.
    move: dict[str, int]
    stay: dict[str, int]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    report: Report = field(default_factory=lambda: Report((), ()))


def shape_problems(graph: Any, at: str = "/graph") -> list[FieldProblem]:
    """What stops `graph` being stored even as a draft: it must look like schema 1."""
    if not isinstance(graph, dict):
        return [FieldProblem("must be a JSON object: {\"schema\": 1, \"nodes\": [...], \"edges\": [...]}",
                             pointer=at)]
    problems = []
    if graph.get("schema") != SCHEMA_VERSION:
        problems.append(FieldProblem(f"must be {SCHEMA_VERSION}", pointer=f"{at}/schema"))
    for name, limit in (("nodes", MAX_NODES), ("edges", MAX_EDGES)):
        value = graph.get(name)
        if not isinstance(value, list):
            problems.append(FieldProblem("must be an array", pointer=f"{at}/{name}"))
        elif len(value) > limit:
            problems.append(FieldProblem(f"a journey has at most {limit} {name}", pointer=f"{at}/{name}"))
    for name in ("settings", "ui"):
        if graph.get(name) is not None and not isinstance(graph[name], dict):
            problems.append(FieldProblem("must be an object", pointer=f"{at}/{name}"))
    unknown = sorted(set(graph) - {"schema", "settings", "nodes", "edges", "ui"})
    problems += [FieldProblem("is not a known field", pointer=f"{at}/{name}") for name in unknown]
    return problems


def _check_graph(graph: Any) -> dict[str, Any]:
    problems = shape_problems(graph)
    if problems:
        raise ValidationFailed(f"The graph is not a schema-{SCHEMA_VERSION} journey: {problems[0].pointer} "
                               f"{problems[0].detail}.", errors=problems)
    return copy.deepcopy(graph)


def _clean_name(name: Any) -> str:
    clean = " ".join(name.split()) if isinstance(name, str) else ""
    if not clean or len(clean) > NAME_MAX or not clean.isprintable():
        raise ValidationFailed(f"Give the journey a name of 1 to {NAME_MAX} printable characters.", field="name")
    return clean


def create_journey(db: Session, *, name: str, graph: Any = None, user_id: int | None, now: datetime,
                   by: str | None = None) -> Journey:
    """A draft journey (flushed). The graph may fail validation; it must have schema 1's shape."""
    clean = _clean_name(name)
    draft = _check_graph(STARTER_GRAPH if graph is None else graph)
    journey = Journey(name=clean, status=JourneyStatus.draft, draft=draft, created_at=now, updated_at=now,
                      updated_by_id=user_id)
    db.add(journey)
    db.flush()
    _audit(db, user_id, by, "journey.create", journey, now, name=clean)
    return journey


def update_draft(db: Session, journey: Journey, *, graph: Any = None, name: str | None = None,
                 user_id: int | None, now: datetime, by: str | None = None) -> Journey:
    """Replace the draft graph and/or the name; live versions are untouched until publish."""
    changed = []
    if name is not None:
        clean = _clean_name(name)
        if clean != journey.name:
            journey.name = clean
            changed.append("name")
    if graph is not None:
        draft = _check_graph(graph)
        if draft != journey.draft:
            journey.draft = draft
            changed.append("graph")
    if changed:
        journey.updated_at, journey.updated_by_id = now, user_id
        _audit(db, user_id, by, "journey.update", journey, now, changed=changed)
    return journey


def get_journey(db: Session, journey_id: int) -> Journey:
    journey = db.get(Journey, journey_id)
    if journey is None:
        raise NotFound(f"No journey {journey_id}.")
    return journey


def validate_draft(db: Session, journey: Journey, graph: Any = None) -> Report:
    """Every error and warning of the draft (or of `graph`), against the templates that exist."""
    return versions.check(db, journey, journey.draft if graph is None else graph)


def duplicate_journey(db: Session, journey: Journey, *, user_id: int | None, now: datetime,
                      by: str | None = None) -> Journey:
    name = f"Copy of {journey.name}"[:NAME_MAX]
    copied = create_journey(db, name=name, graph=journey.draft, user_id=user_id, now=now, by=by)
    _audit(db, user_id, by, "journey.duplicate", copied, now, source=journey.id)
    return copied


def live_version(db: Session, journey: Journey) -> JourneyVersion | None:
    """The newest published version: where new contacts enter."""
    return db.scalar(select(JourneyVersion).where(JourneyVersion.journey_id == journey.id)
                     .order_by(JourneyVersion.number.desc()).limit(1))


def problems_as_fields(graph: Any, report: Report) -> list[FieldProblem]:
    """Validation errors as request problems: pointers to the node (or edge) in the graph."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    index = {n.get("id"): i for i, n in enumerate(nodes or []) if isinstance(n, dict)}
    out = []
    for problem in report.errors:
        where = "/graph"
        if problem.node is not None and problem.node in index:
            where = f"/graph/nodes/{index[problem.node]}"
        out.append(FieldProblem(f"{problem.node + ': ' if problem.node else ''}{problem.message} "
                                f"[{problem.code}]", pointer=where))
    return out


def publish_journey(db: Session, journey: Journey, *, user: User | None, notes: str = "",
                    migrate_waiting: bool = False, now: datetime, by: str | None = None) -> JourneyVersion:
    """Publish the draft as a new version; ValidationFailed lists every error (with `problems`).

    An unchanged draft of a running journey publishes nothing: the live version is returned."""
    if len(notes) > 2000:
        raise ValidationFailed("Release notes have at most 2,000 characters.", field="notes")
    live = live_version(db, journey)
    if (live is not None and live.graph == journey.draft
            and journey.status in (JourneyStatus.active, JourneyStatus.paused)):
        return live
    report = validate_draft(db, journey)
    if report.errors:
        raise ValidationFailed(f"The journey has {len(report.errors)} error(s), so it was not published; "
                               f"first: {report.errors[0]}.", errors=problems_as_fields(journey.draft, report),
                               problems=[p.as_dict() for p in report.errors],
                               warnings=[p.as_dict() for p in report.warnings])
    version = versions.publish(db, journey, journey.draft, now=now, user_id=user.id if user else None,
                               notes=notes, migrate_waiting=migrate_waiting)
    journey.updated_by_id = user.id if user else journey.updated_by_id
    _audit(db, user.id if user else None, by, "journey.publish", journey, now, version=version.number,
           migrate_waiting=migrate_waiting, warnings=len(report.warnings))
    return version


def publish_impact(db: Session, journey: Journey) -> PublishImpact:
    live = live_version(db, journey)
    impact = versions.impact(db, journey, journey.draft)
    before = _nodes_by_id(live.graph) if live else {}
    after = _nodes_by_id(journey.draft)
    return PublishImpact(
        live_version=live.number if live else None, move=impact.move, stay=impact.stay,
        added=sorted(set(after) - set(before)), removed=sorted(set(before) - set(after)),
        changed=sorted(n for n in set(before) & set(after) if before[n] != after[n]),
        report=validate_draft(db, journey))


def _nodes_by_id(graph: Any) -> dict[str, Any]:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return {n["id"]: n for n in nodes or [] if isinstance(n, dict) and isinstance(n.get("id"), str)}


def pause_journey(db: Session, journey: Journey, *, user: User | None, now: datetime,
                  by: str | None = None) -> Journey:
    """Hold everybody where they are (Conflict unless active)."""
    lifecycle.pause(db, journey, now)
    _audit(db, user.id if user else None, by, "journey.pause", journey, now)
    return journey


def resume_journey(db: Session, journey: Journey, *, user: User | None, now: datetime,
                   by: str | None = None) -> Journey:
    """Let a paused journey run again (Conflict unless paused)."""
    lifecycle.resume(db, journey, now)
    _audit(db, user.id if user else None, by, "journey.resume", journey, now)
    return journey


def archive_journey(db: Session, journey: Journey, *, user: User | None, now: datetime,
                    by: str | None = None) -> int:
    """Exit everybody inside (returns how many) and stop new entries (Conflict when archived)."""
    if journey.status == JourneyStatus.archived:
        raise Conflict("this journey is archived already")
    exited = lifecycle.archive(db, journey, now)
    _audit(db, user.id if user else None, by, "journey.archive", journey, now, exited=exited)
    return exited


def versions_of(db: Session, journey: Journey) -> list[JourneyVersion]:
    """Newest first."""
    return list(db.scalars(select(JourneyVersion).where(JourneyVersion.journey_id == journey.id)
                           .order_by(JourneyVersion.number.desc())))


def restore_version(db: Session, journey: Journey, number: int, *, user_id: int | None, now: datetime,
                    by: str | None = None) -> Journey:
    """Copy version `number`'s graph into the draft (publish it to make it live again)."""
    version = db.scalar(select(JourneyVersion).where(JourneyVersion.journey_id == journey.id,
                                                     JourneyVersion.number == number))
    if version is None:
        raise NotFound(f"Journey {journey.id} has no version {number}.")
    journey.draft = copy.deepcopy(version.graph)
    journey.updated_at, journey.updated_by_id = now, user_id
    _audit(db, user_id, by, "journey.restore", journey, now, version=number)
    return journey


def version_numbers(db: Session, journey_ids: list[int]) -> dict[int, int]:
    """journey id → its newest version number, for journeys that have one."""
    if not journey_ids:
        return {}
    return dict(db.execute(select(JourneyVersion.journey_id, func.max(JourneyVersion.number))
                           .where(JourneyVersion.journey_id.in_(journey_ids))
                           .group_by(JourneyVersion.journey_id)).all())


def _audit(db: Session, user_id: int | None, by: str | None, action: str, journey: Journey, now: datetime,
           **details: Any) -> None:
    user = db.get(User, user_id) if user_id else None
    db.add(AuditEntry(actor_id=user_id, actor=by or (user.email if user else "system"), action=action,
                      target=f"journey:{journey.id}", details=details, at=now))
