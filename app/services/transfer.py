"""Journeys as JSON files: export a journey (name, draft graph, the templates it sends) and import
such files into another workspace (or this one) as new draft journeys.

An import is all or nothing: every file is checked before anything is written, and the caller
commits once. A template in a file whose slug exists here with different content is refused
unless `replace_templates` is given (then the file's content becomes a new version); one with
the same content is reused, so importing the same file twice creates no second template.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldProblem, ValidationFailed
from app.models import Journey, Template
from app.services import journeys, templates
from app.services.event_input import problems_of
from app.services.templates import TemplateIn
from journeys.timing import isoformat

FORMAT = "journeys.export"
VERSION = 1


class ExportedJourney(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=journeys.NAME_MAX)
    graph: dict[str, Any] = Field(description="The draft graph (schema 1).")


class ExportDocument(BaseModel):
    """One journey and the templates its send nodes use."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["journeys.export"] = FORMAT
    version: Literal[1] = VERSION
    exported_at: str | None = Field(default=None, description="When it was exported (ISO 8601).")
    journey: ExportedJourney
    templates: list[TemplateIn] = Field(default_factory=list, max_length=500)


@dataclass
class Imported:
    journey: Journey
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


def template_slugs(graph: Any) -> list[str]:
    """The templates a graph's send nodes name, in order of first use."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    slugs = [(n.get("config") or {}).get("template") for n in nodes or []
             if isinstance(n, dict) and n.get("type") == "send" and isinstance(n.get("config"), dict)]
    return list(dict.fromkeys(s for s in slugs if isinstance(s, str)))


def export_journey(db: Session, journey: Journey, now: datetime) -> dict[str, Any]:
    """The export document of `journey` (JSON-ready). Templates that do not exist are left out."""
    found = []
    for slug in template_slugs(journey.draft):
        template = db.scalar(select(Template).where(Template.slug == slug))
        if template is not None:
            found.append(templates.as_input(template, templates.latest_version(db, template)))
    document = ExportDocument(exported_at=isoformat(now), journey=ExportedJourney(name=journey.name,
                                                                                  graph=journey.draft),
                              templates=found)
    return document.model_dump(mode="json")


def parse_document(data: Any, at: Sequence[str | int] = ()) -> ExportDocument:
    """An ExportDocument, or ValidationFailed with a pointer per problem (under `at`)."""
    try:
        document = ExportDocument.model_validate(data)
    except ValidationError as exc:
        problems = problems_of(exc, at)
        raise ValidationFailed(f"Not a journey export: {problems[0].pointer or 'body'} {problems[0].detail}.",
                               errors=problems) from None
    prefix = "".join(f"/{p}" for p in at)
    problems = journeys.shape_problems(document.journey.graph, at=f"{prefix}/journey/graph")
    seen: dict[str, int] = {}
    for index, template in enumerate(document.templates):
        if template.slug in seen:
            problems.append(FieldProblem(f"template {template.slug!r} is in this file twice",
                                         pointer=f"{prefix}/templates/{index}/slug"))
        seen[template.slug] = index
        problems += [FieldProblem(p.detail, pointer=f"{prefix}/templates/{index}{p.pointer}")
                     for p in templates.check_source(template.subject, template.preheader, template.mjml)]
    if problems:
        raise ValidationFailed(f"Not a journey that can be imported: {problems[0].pointer} {problems[0].detail}.",
                               errors=problems)
    return document


def import_documents(db: Session, documents: Sequence[ExportDocument], *, replace_templates: bool = False,
                     user_id: int | None, now: datetime, by: str | None = None,
                     where: Sequence[str] | None = None) -> list[Imported]:
    """Import each document as a new draft journey (flushed, not committed).

    `where` names each document in errors (its file name); pointers are into the document."""
    labels = list(where) if where is not None else ["this file"] * len(documents)
    _check_templates(db, documents, labels, replace_templates, named=where is not None)
    done: dict[str, str] = {}  # slug → what this import did with it
    results = []
    for document in documents:
        result = Imported(journeys.create_journey(db, name=document.journey.name, graph=document.journey.graph,
                                                  user_id=user_id, now=now, by=by))
        for data in document.templates:
            outcome = done.get(data.slug) or _import_template(db, data, user_id, now, by)
            done[data.slug] = "unchanged"  # for the next file that carries it (checked to be the same)
            getattr(result, outcome).append(data.slug)
        results.append(result)
    return results


def _check_templates(db: Session, documents: Sequence[ExportDocument], labels: Sequence[str],
                     replace: bool, *, named: bool) -> None:
    problems: list[FieldProblem] = []
    first: dict[str, tuple[TemplateIn, str]] = {}
    for document, label in zip(documents, labels):
        for index, data in enumerate(document.templates):
            pointer, prefix = f"/templates/{index}", f"{label}: " if named else ""
            earlier = first.setdefault(data.slug, (data, label))
            if earlier[0] != data:
                problems.append(FieldProblem(f"{prefix}template {data.slug!r} differs from the one in "
                                             f"{earlier[1]}", pointer=pointer))
                continue
            existing = db.scalar(select(Template).where(Template.slug == data.slug))
            if existing is not None and not replace and not _same(db, existing, data):
                problems.append(FieldProblem(
                    f"{prefix}a different template {data.slug!r} exists here already; import with "
                    "replace_templates to make the file's content its new version, or rename it in the file",
                    pointer=pointer))
    if problems:
        raise ValidationFailed(f"Nothing was imported: {problems[0].detail}.", errors=problems)


def _same(db: Session, template: Template, data: TemplateIn) -> bool:
    current = templates.as_input(template, templates.latest_version(db, template))
    keys = ("subject", "preheader", "mjml", "category")
    return all(getattr(current, k) == getattr(data, k) for k in keys)


def _import_template(db: Session, data: TemplateIn, user_id: int | None, now: datetime, by: str | None) -> str:
    existing = db.scalar(select(Template).where(Template.slug == data.slug))
    if existing is None:
        templates.create_template(db, data, user_id=user_id, now=now, by=by)
        return "created"
    if _same(db, existing, data):
        return "unchanged"
    templates.update_template(db, existing, data, user_id=user_id, now=now, by=by)
    return "replaced"
