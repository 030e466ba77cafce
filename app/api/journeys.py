"""Journeys: create and edit the draft, validate, publish, pause/resume/archive, statistics,
simulate (the same input and output as `journeys simulate`), export and import as JSON files."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app import clock
from app.api import bp
from app.api.journey_schemas import (ArchiveOut, GraphIn, JourneyIn, JourneyList, JourneyListQuery, JourneyOut,
                                     JourneyUpdate, PublishIn, PublishOut, SimulateIn, SimulationOut, StatsOut,
                                     ValidationOut, journey_out, stats_out, summary_out, validation_out,
                                     version_out)
from app.api.routing import ApiCall, operation
from app.db import db
from app.errors import FieldProblem, ValidationFailed
from app.models import Journey
from app.services import journeys, simulation, transfer
from app.services.event_input import problems_of
from app.services.transfer import ExportDocument

TAG = "Journeys"
WRONG_STATE = ((409, "The journey is not in a state that allows this (e.g. pausing a paused journey)."),)


def _model(model: type[BaseModel], body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = problems_of(exc)
        raise ValidationFailed(f"{problems[0].pointer or 'body'}: {problems[0].detail}", errors=problems) from None


def _journey(journey_id: int) -> Journey:
    return journeys.get_journey(db.session, journey_id)


@operation(bp, "POST", "/journeys", summary="Create a journey", tag=TAG, scope="journeys:write", body=JourneyIn,
           status=201, result=JourneyOut, result_description="Created as a draft; `validation` lists its problems.",
           description="Stores the graph as the draft even when it does not validate yet (it must have schema 1's "
                       "shape). Publish it to let contacts in.")
def create_journey(call: ApiCall) -> ResponseReturnValue:
    data: JourneyIn = _model(JourneyIn, call.body)
    with db.transaction() as s:
        journey = journeys.create_journey(s, name=data.name, graph=data.graph, user_id=None, now=clock.now(),
                                          by=call.source)
    return journey_out(db.session, journey), 201


@operation(bp, "GET", "/journeys", summary="List journeys", tag=TAG, scope="journeys:read", query=JourneyListQuery,
           result=JourneyList, description="Most recently changed first, with contacts inside and recent sends.")
def list_journeys(call: ApiCall) -> ResponseReturnValue:
    rows = journeys.list_journeys(db.session, clock.now(), include_archived=call.query.include_archived)
    return JourneyList(items=[summary_out(r) for r in rows])


@operation(bp, "GET", "/journeys/<int:journey_id>", summary="Read a journey", tag=TAG, scope="journeys:read",
           result=JourneyOut, description="The draft graph with its validation, and the published versions.")
def get_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    return journey_out(db.session, _journey(journey_id))


@operation(bp, "PUT", "/journeys/<int:journey_id>", summary="Update the draft of a journey", tag=TAG,
           scope="journeys:write", body=JourneyUpdate, result=JourneyOut,
           description="Replaces the draft graph and/or renames the journey. Contacts inside are not affected "
                       "until the draft is published.")
def update_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    data: JourneyUpdate = _model(JourneyUpdate, call.body)
    if data.name is None and data.graph is None:
        raise ValidationFailed("Give a name, a graph, or both.", errors=[FieldProblem("give name or graph",
                                                                                      pointer="")])
    with db.transaction() as s:
        journey = journeys.update_draft(s, _journey(journey_id), graph=data.graph, name=data.name, user_id=None,
                                        now=clock.now(), by=call.source)
    return journey_out(db.session, journey)


@operation(bp, "POST", "/journeys/<int:journey_id>/validate", summary="Validate a journey", tag=TAG,
           scope="journeys:read", body=GraphIn, body_optional=True, result=ValidationOut,
           description="Every error (which block publishing) and warning of the draft, or of the graph given, "
                       "each with a stable code and the node it concerns. Stores nothing.")
def validate_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    data: GraphIn = _model(GraphIn, call.body)
    return validation_out(journeys.validate_draft(db.session, _journey(journey_id), data.graph))


@operation(bp, "POST", "/journeys/<int:journey_id>/publish", summary="Publish the draft", tag=TAG,
           scope="journeys:write", body=PublishIn, body_optional=True, result=PublishOut,
           result_description="Published (or, for an unchanged draft, the live version).",
           description="Makes the draft a new immutable version that new contacts enter; a draft or archived "
                       "journey becomes active. Contacts inside keep their version unless migrate_waiting. "
                       "A draft with errors is refused with 422 listing every one (errors[] point at the nodes).")
def publish_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    data: PublishIn = _model(PublishIn, call.body)
    with db.transaction() as s:
        journey = _journey(journey_id)
        before = journeys.live_version(s, journey)
        version = journeys.publish_journey(s, journey, user=None, notes=data.notes,
                                           migrate_waiting=data.migrate_waiting, now=clock.now(), by=call.source)
    return PublishOut(published=before is None or version.id != before.id, version=version_out(db.session, version),
                      journey=journey_out(db.session, journey))


def _lifecycle(call: ApiCall, journey_id: int, action: str) -> Journey:
    with db.transaction() as s:
        journey = _journey(journey_id)
        getattr(journeys, f"{action}_journey")(s, journey, user=None, now=clock.now(), by=call.source)
    return journey


@operation(bp, "POST", "/journeys/<int:journey_id>/pause", summary="Pause a journey", tag=TAG,
           scope="journeys:write", result=JourneyOut, errors=WRONG_STATE,
           description="Holds every contact where it is; nobody new enters. Only an active journey can be paused.")
def pause_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    return journey_out(db.session, _lifecycle(call, journey_id, "pause"))


@operation(bp, "POST", "/journeys/<int:journey_id>/resume", summary="Resume a journey", tag=TAG,
           scope="journeys:write", result=JourneyOut, errors=WRONG_STATE,
           description="Overdue contacts move on at once (sends still honour quiet hours). Only a paused journey "
                       "can be resumed.")
def resume_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    return journey_out(db.session, _lifecycle(call, journey_id, "resume"))


@operation(bp, "POST", "/journeys/<int:journey_id>/archive", summary="Archive a journey", tag=TAG,
           scope="journeys:write", result=ArchiveOut, errors=WRONG_STATE,
           description="Every contact inside exits with the reason journey_archived; nobody new enters. "
                       "Publishing again makes it active.")
def archive_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        journey = _journey(journey_id)
        exited = journeys.archive_journey(s, journey, user=None, now=clock.now(), by=call.source)
    return ArchiveOut(exited=exited, journey=journey_out(db.session, journey))


@operation(bp, "GET", "/journeys/<int:journey_id>/stats", summary="Journey statistics", tag=TAG,
           scope="journeys:read", result=StatsOut,
           description="Contacts entered, inside, completed and exited (by reason), goals reached, messages by "
                       "status, and per node: waiting, reached, steps by outcome, messages.")
def journey_stats(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    journey = _journey(journey_id)
    return stats_out(journey, journeys.journey_stats(db.session, journey))


@operation(bp, "POST", "/journeys/<int:journey_id>/simulate", summary="Simulate a journey", tag=TAG,
           scope="journeys:read", body=SimulateIn, result=SimulationOut,
           description="Runs one contact through the draft (or the live or a numbered version) on a simulated "
                       "clock, with the templates stored here: the same input and output as `journeys simulate`. "
                       "No side effects: nothing is sent or stored.")
def simulate_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    data: SimulateIn = _model(SimulateIn, call.body)
    journey = _journey(journey_id)
    graph = _graph_of(journey, data.version)
    timeline = simulation.simulate_journey(db.session, graph, contact=data.contact, events=data.events,
                                           start=data.start, until=data.until, settings=current_app.config["SETTINGS"],
                                           key=f"journey-{journey.id}")
    return SimulationOut.model_validate(timeline)


def _graph_of(journey: Journey, version: str | int) -> Any:
    if version == "draft":
        return journey.draft
    history = journeys.versions_of(db.session, journey)
    chosen = history[:1] if version == "live" else [v for v in history if v.number == version]
    if not chosen:
        which = "live version" if version == "live" else f"version {version}"
        raise ValidationFailed(f"Journey {journey.id} has no {which}.", field="version")
    return chosen[0].graph


@operation(bp, "GET", "/journeys/<int:journey_id>/export", summary="Export a journey", tag=TAG,
           scope="journeys:read", result=ExportDocument,
           description="A JSON file with the journey's name, its draft graph and the templates its send nodes "
                       "use: POST it to /journeys/import (or `journeys import FILE`) in any workspace.")
def export_journey(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    document = transfer.export_journey(db.session, _journey(journey_id), clock.now())
    return ExportDocument.model_validate(document)


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    replace_templates: bool = Field(default=False, description="A template whose slug exists here with other "
                                    "content gets the file's content as a new version (else: 422, nothing stored).")


class TemplatesImported(BaseModel):
    created: list[str]
    unchanged: list[str] = Field(description="Existed here with the same content: reused.")
    replaced: list[str] = Field(description="Existed here with other content: the file's is their new version.")


class ImportOut(BaseModel):
    journey: JourneyOut
    templates: TemplatesImported


@operation(bp, "POST", "/journeys/import", summary="Import a journey", tag=TAG, scope="journeys:write",
           body=ExportDocument, query=ImportQuery, status=201, result=ImportOut,
           result_description="Imported as a new draft journey.",
           description="Takes a file from /journeys/{journey_id}/export. All or nothing: a template that "
                       "does not compile, or one that differs from a template of the same slug here, refuses "
                       "the whole import (unless replace_templates).")
def import_journey(call: ApiCall) -> ResponseReturnValue:
    document = transfer.parse_document(call.body)
    with db.transaction() as s:
        [result] = transfer.import_documents(s, [document], replace_templates=call.query.replace_templates,
                                             user_id=None, now=clock.now(), by=call.source)
    return ImportOut(journey=journey_out(db.session, result.journey),
                     templates=TemplatesImported(created=result.created, unchanged=result.unchanged,
                                                 replaced=result.replaced)), 201

