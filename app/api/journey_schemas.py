"""What the journeys routes take and answer (their OpenAPI schemas), and the conversions into them."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.models import Journey, JourneyVersion, User
from app.services import journeys
from app.services.journeys import JourneyStats, JourneySummary
from journeys.problems import Report

Status = Literal["draft", "active", "paused", "archived"]
GRAPH = ("The journey graph, schema 1 (docs/core.md): {\"schema\": 1, \"settings\": {...}, \"nodes\": [...], "
         "\"edges\": [...], \"ui\": {...}}. A draft may fail validation; publishing needs it valid.")


class JourneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Welcome", "graph": {
        "schema": 1, "settings": {"exit_events": ["order_placed"]},
        "nodes": [{"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
                  {"id": "hello", "type": "send", "config": {"template": "welcome", "category": "marketing"}},
                  {"id": "end", "type": "exit"}],
        "edges": [{"from": "start", "to": "hello"}, {"from": "hello", "to": "end"}]}}]})
    name: str = Field(min_length=1, max_length=journeys.NAME_MAX)
    graph: dict[str, Any] | None = Field(default=None, description=GRAPH + " Default: a lone trigger.")


class JourneyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=journeys.NAME_MAX)
    graph: dict[str, Any] | None = Field(default=None, description=GRAPH)


class GraphIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    graph: dict[str, Any] | None = Field(default=None, description="Validate this graph instead of the draft.")


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str = Field(default="", max_length=2000, description="What changed, for the version history.")
    migrate_waiting: bool = Field(default=False, description="Move contacts waiting at a wait node the new "
                                  "version also has onto it; others stay on the version they entered.")


class SimulateIn(BaseModel):
    """The input of `journeys simulate`: CONTACT.json, EVENTS.json, --start, --until."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "contact": {"email": "klara@example.de", "timezone": "Europe/Berlin", "attributes": {"first_name": "Klara"},
                    "consent": {"marketing": "subscribed"}},
        "events": [{"at": "2026-12-01T09:00:00Z", "event": "signed_up", "properties": {}}],
        "until": "2026-12-31T00:00:00Z"}]})
    contact: dict[str, Any] = Field(description='{"email", "attributes", "timezone", "locale", "tags", "metrics", '
                                                '"consent": {"marketing": ...}, "suppressed"}')
    events: list[dict[str, Any]] | None = Field(default=None, max_length=10_000, description='[{"at", "event", '
                                                '"properties"}]; the first is the trigger.')
    start: str | None = Field(default=None, description="When the contact enters (ISO 8601); default: the "
                              "trigger event's time. Needed without events.")
    until: str | None = Field(default=None, description="Stop the clock here (ISO 8601); default: five years on.")
    version: Literal["draft", "live"] | int = Field(default="draft", description="draft, live, or a version number.")


class ProblemOut(BaseModel):
    code: str = Field(description="Stable, e.g. node.unreachable (docs/core.md).")
    message: str
    node: str | None
    edge: list[str | None] | None = Field(description="[from, to, port] for a problem with a connection.")
    severity: Literal["error", "warning"]


class ValidationOut(BaseModel):
    ok: bool = Field(description="No errors: the draft can be published (warnings allowed).")
    errors: list[ProblemOut]
    warnings: list[ProblemOut]


class VersionOut(BaseModel):
    number: int
    published_at: datetime
    published_by: str | None
    notes: str


class JourneyOut(BaseModel):
    id: int
    name: str
    status: Status
    live_version: int | None = Field(description="The newest published version's number.")
    draft_changed: bool = Field(description="The draft differs from the live version (or nothing is live).")
    graph: dict[str, Any] = Field(description="The draft. " + GRAPH)
    validation: ValidationOut = Field(description="The draft's problems.")
    versions: list[VersionOut] = Field(description="Newest first.")
    created_at: datetime
    updated_at: datetime
    updated_by: str | None


class JourneySummaryOut(BaseModel):
    id: int
    name: str
    status: Status
    live_version: int | None
    inside: int = Field(description="Contacts in the journey now.")
    sent_7d: int = Field(description="Emails sent in the last 7 days.")
    created_at: datetime
    updated_at: datetime
    updated_by: str | None


class JourneyList(BaseModel):
    items: list[JourneySummaryOut]


class JourneyListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_archived: bool = Field(default=True, description="List archived journeys too.")


class PublishOut(BaseModel):
    published: bool = Field(description="False when the draft equals the live version: nothing new.")
    version: VersionOut
    journey: JourneyOut


class ArchiveOut(BaseModel):
    exited: int = Field(description="Contacts that were inside and left with reason journey_archived.")
    journey: JourneyOut


class NodeStatsOut(BaseModel):
    waiting: int
    reached: int = Field(description="Contacts that reached the node.")
    passed: int = Field(description="Reached and no longer waiting there.")
    outcomes: dict[str, int] = Field(description="Trace steps by outcome.")
    messages: dict[str, int] = Field(description="For a send node: its messages by status.")


class StatsOut(BaseModel):
    journey_id: int
    entered: int
    inside: int
    completed: int
    exited: dict[str, int] = Field(description="By exit reason.")
    goals_reached: int
    messages: dict[str, int] = Field(description="By status.")
    nodes: dict[str, NodeStatsOut]


class SimulationStep(BaseModel):
    model_config = ConfigDict(extra="allow")
    at: str
    node: str
    type: str
    outcome: str


class SimulationFinal(BaseModel):
    model_config = ConfigDict(extra="allow")
    state: str = Field(description="active, waiting, completed, exited or not_enrolled.")
    node: str | None


class SimulationOut(BaseModel):
    """The output of `journeys simulate`."""

    steps: list[SimulationStep]
    final: SimulationFinal


def validation_out(report: Report) -> ValidationOut:
    data = report.as_dict()
    return ValidationOut(ok=data["ok"], errors=[ProblemOut(**p) for p in data["errors"]],
                         warnings=[ProblemOut(**p) for p in data["warnings"]])


def version_out(db: Session, version: JourneyVersion) -> VersionOut:
    user = db.get(User, version.published_by_id) if version.published_by_id else None
    return VersionOut(number=version.number, published_at=version.published_at,
                      published_by=user.email if user else None, notes=version.notes or "")


def journey_out(db: Session, journey: Journey) -> JourneyOut:
    history = journeys.versions_of(db, journey)
    user = db.get(User, journey.updated_by_id) if journey.updated_by_id else None
    return JourneyOut(id=journey.id, name=journey.name, status=journey.status.value,  # type: ignore[arg-type]
                      live_version=history[0].number if history else None,
                      draft_changed=not history or history[0].graph != journey.draft, graph=journey.draft,
                      validation=validation_out(journeys.validate_draft(db, journey)),
                      versions=[version_out(db, v) for v in history], created_at=journey.created_at,
                      updated_at=journey.updated_at, updated_by=user.email if user else None)


def summary_out(row: JourneySummary) -> JourneySummaryOut:
    return JourneySummaryOut(id=row.id, name=row.name, status=row.status,  # type: ignore[arg-type]
                             live_version=row.live_version, inside=row.inside, sent_7d=row.sent_7d,
                             created_at=row.created_at, updated_at=row.updated_at, updated_by=row.updated_by)


def stats_out(journey: Journey, stats: JourneyStats) -> StatsOut:
    return StatsOut(journey_id=journey.id, entered=stats.entered, inside=stats.inside, completed=stats.completed,
                    exited=stats.exited, goals_reached=stats.goals_reached, messages=stats.messages,
                    nodes={node: NodeStatsOut(waiting=c.waiting, reached=c.reached, passed=c.passed,
                                              outcomes=c.outcomes, messages=c.messages)
                           for node, c in sorted(stats.nodes.items())})
