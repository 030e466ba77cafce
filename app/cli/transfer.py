"""`journeys export` and `journeys import`: journeys as JSON files (name, draft graph, templates).

The file format is the API's (GET /api/v1/journeys/<id>/export, POST /api/v1/journeys/import),
described in docs/api.md. An import is all or nothing: one bad file imports none of them.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy import select

from app import clock
from app.cli.context import app_context, operator
from app.db import db
from app.errors import FieldProblem, ValidationFailed
from app.models import Journey
from app.services import journeys, transfer


@click.command("export")
@click.option("--journey", "journey_ids", type=int, multiple=True, metavar="ID",
              help="A journey to export (repeat for several).")
@click.option("--all", "everything", is_flag=True, help="Export every journey (archived ones too).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="The folder to write into (made if missing); one <id>-<name>.json per journey.")
def export(journey_ids: tuple[int, ...], everything: bool, out_dir: str) -> None:
    """Write journeys, with the templates they send, as JSON files; prints each path."""
    if everything == bool(journey_ids):
        _fail("give --journey ID (one or more) or --all")
    folder = Path(out_dir)
    with app_context():
        s = db.session
        rows = (list(s.scalars(select(Journey).order_by(Journey.id))) if everything
                else [journeys.get_journey(s, ident) for ident in journey_ids])
        documents = [(row, transfer.export_journey(s, row, clock.now())) for row in rows]
    if not documents:
        click.echo("No journeys to export.")
        return
    folder.mkdir(parents=True, exist_ok=True)
    for row, document in documents:
        path = folder / f"{row.id}-{_file_name(row.name)}.json"
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(str(path))


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False), metavar="FILE...")
@click.option("--replace-templates", is_flag=True,
              help="A template whose slug exists here with other content gets the file's content as a new "
                   "version (without it such an import is refused).")
def import_(files: tuple[str, ...], replace_templates: bool) -> None:
    """Import journey files (from `journeys export`) as new draft journeys, all or nothing."""
    documents, problems = [], []
    for name in files:
        try:
            documents.append(transfer.parse_document(_read(name)))
        except ValidationFailed as exc:
            problems += [(name, p) for p in exc.problems()]
    if problems:
        _report(problems)
    with app_context():
        try:
            with db.transaction() as s:
                results = transfer.import_documents(s, documents, replace_templates=replace_templates,
                                                    user_id=None, now=clock.now(), by=operator(), where=files)
        except ValidationFailed as exc:
            _report([(None, p) for p in exc.problems()])
        for name, result in zip(files, results):
            click.echo(f"{name}: journey {result.journey.id} {result.journey.name!r} (draft); templates "
                       f"created: {', '.join(result.created) or '-'}; reused: {', '.join(result.unchanged) or '-'}; "
                       f"replaced: {', '.join(result.replaced) or '-'}")
    click.echo(f"Imported {len(results)} journey(s) as drafts: review and publish them.")


def _file_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "journey"


def _read(name: str) -> Any:
    try:
        return json.loads(Path(name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"{name}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{name}: cannot be read ({exc})")
    except json.JSONDecodeError as exc:
        _fail(f"{name}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")


def _report(problems: list[tuple[str | None, FieldProblem]]) -> NoReturn:
    for name, problem in problems:
        where = ":".join(p for p in (name, problem.pointer) if p)
        click.echo(f"Error: {where + ': ' if where else ''}{problem.detail}", err=True)
    click.echo("Nothing was imported.", err=True)
    sys.exit(1)


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)
