"""Simulate a journey for one contact: the code behind both `journeys simulate` (files) and
`POST /api/v1/journeys/<id>/simulate` (templates from the database), so the two agree.

`run` is pure: graph, contact and events as JSON, templates as sources, and the pure core's
simulator. `simulate_journey` is its database-backed shell for the API.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import FieldProblem, ValidationFailed
from app.models import Template, TemplateVersion
from app.services import workspace
from journeys.errors import InvalidJourney, JourneyError, SimulationError, TemplateError
from journeys.rendering import Renderer, TemplateSource, template_has_unsubscribe_link
from journeys.simulator import contact_from_json, events_from_json, simulate
from journeys.state import Event, Policy
from journeys.timing import parse_timestamp
from journeys.validation import TemplateInfo, analyse

_renderer = Renderer()
#: "contact.email: …", "events[2].at …": where a simulator complaint points in the input.
_WHERE = re.compile(r"^(?:the )?(contact|events)(?:\[(\d+)\])?(?:\.(\w+))?")


def run(graph: Any, *, contact: Any, events: Any | None, start: datetime | None, until: datetime | None,
        templates: Mapping[str, TemplateSource] | None, key: str, policy: Policy = Policy()) -> dict[str, Any]:
    """The timeline of `contact` through `graph` (the simulator's JSON output).

    `templates` None: template checks are skipped and a sent step's subject is the slug.
    Raises InvalidJourney (every problem) for a graph that cannot run, JourneyError for bad input.
    """
    infos = {slug: TemplateInfo(t.category, template_has_unsubscribe_link(t.mjml))
             for slug, t in templates.items()} if templates is not None else None
    journey, report = analyse(graph, infos, key=key)
    if journey is None:
        raise InvalidJourney(list(report.errors))
    facts = contact_from_json(contact)
    scripted = events_from_json(events) if events else []
    if not scripted:
        if start is None:
            raise SimulationError("without events, give a start: the trigger event happens then")
        scripted = [Event(journey.trigger_event, start, {})]
    subject_for = _subjects(templates) if templates is not None else None
    return simulate(journey, facts, scripted, start_at=start, until=until, subject_for=subject_for,
                    policy=policy)


def _subjects(templates: Mapping[str, TemplateSource]):  # type: ignore[no-untyped-def]
    def subject_for(slug: str, context: Mapping[str, Any]) -> str:
        try:
            return _renderer.render_subject(templates[slug], context)
        except TemplateError as exc:
            raise TemplateError(f"template {slug!r}: {exc.message}", line=exc.line, kind=exc.kind) from exc
    return subject_for


def database_templates(db: Session) -> dict[str, TemplateSource]:
    """The current version of every template that is not archived, by slug."""
    newest = (select(TemplateVersion.template_id, func.max(TemplateVersion.number).label("n"))
              .group_by(TemplateVersion.template_id).subquery())
    rows = db.execute(select(Template.slug, Template.category, TemplateVersion.subject, TemplateVersion.mjml,
                             TemplateVersion.preheader)
                      .join(newest, newest.c.template_id == Template.id)
                      .join(TemplateVersion, (TemplateVersion.template_id == Template.id)
                            & (TemplateVersion.number == newest.c.n))
                      .where(Template.archived.is_(False)))
    return {slug: TemplateSource(subject, mjml, preheader or "", category)
            for slug, category, subject, mjml, preheader in rows}


def policy_of(db: Session) -> Policy:
    """The workspace's rules (consent, default zone and quiet hours) and the chosen A/B winners, as
    the live engine takes them."""
    from app.services import split_winners

    return split_winners.with_winners(db, workspace.engine_policy(workspace.current(db)))


def simulate_journey(db: Session, graph: Any, *, contact: Any, events: list[Any] | None, start: str | None,
                     until: str | None, settings: Settings, key: str = "simulation") -> dict[str, Any]:
    """The same input and output as `journeys simulate`, templates read from the database.

    ValidationFailed for an invalid graph (every problem, pointing into /graph) or bad input."""
    moments = {name: _moment(text, name) for name, text in (("start", start), ("until", until))}
    try:
        return run(graph, contact=contact, events=events, start=moments["start"], until=moments["until"],
                   templates=database_templates(db), key=key, policy=policy_of(db))
    except InvalidJourney as exc:
        from app.services.journeys import problems_as_fields
        from journeys.problems import Report

        report = Report(tuple(exc.problems), ())
        raise ValidationFailed(f"The journey cannot run: {len(exc.problems)} error(s); first: {exc.problems[0]}.",
                               errors=problems_as_fields(graph, report),
                               problems=[p.as_dict() for p in exc.problems]) from None
    except JourneyError as exc:
        message = str(exc)
        raise ValidationFailed(f"The simulation cannot run: {message}.",
                               errors=[FieldProblem(message, pointer=_pointer_of(message))]) from None


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    moment = parse_timestamp(text)
    if moment is None:
        raise ValidationFailed(f"{name}: {text!r} is not an ISO 8601 timestamp with a time zone, "
                               "such as 2026-12-01T09:00:00Z.", field=name)
    return moment


def _pointer_of(message: str) -> str:
    match = _WHERE.match(message)
    if not match:
        return ""
    part, index, name = match.groups()
    return "/" + "/".join(p for p in (part, index, name) if p)
