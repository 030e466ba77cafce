"""`journeys simulate`: run one contact through a journey file on a simulated clock.

Needs no database, Redis or running app: it reads files, runs them through
app/services/simulation.run (the same code as POST /api/v1/journeys/<id>/simulate)
and prints the timeline as JSON. Exit 2 on an invalid journey or input file.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from app.services import simulation
from journeys.errors import InvalidJourney, JourneyError
from journeys.rendering import TemplateSource
from journeys.timing import parse_timestamp


@click.command()
@click.argument("journey_file", metavar="JOURNEY.json", type=click.Path(dir_okay=False))
@click.option("--contact", "contact_file", required=True, type=click.Path(dir_okay=False),
              help='CONTACT.json: {"email", "attributes", "timezone", "tags", "metrics", "consent"}.')
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
              help="Folder with one <slug>.json per template {subject, preheader, mjml, category}.")
@click.option("--events", "events_file", type=click.Path(dir_okay=False),
              help='EVENTS.json: [{"at", "event", "properties"}]; the first is the trigger.')
@click.option("--start", "start_text", help="When the contact enters (ISO 8601); default: the trigger event's time.")
@click.option("--until", "until_text", help="Stop the clock here (ISO 8601); default: five years on.")
def simulate(journey_file: str, contact_file: str, templates_dir: str | None,
             events_file: str | None, start_text: str | None, until_text: str | None) -> None:
    """Print the timeline of a contact through JOURNEY.json as JSON (no side effects)."""
    templates = _templates(Path(templates_dir)) if templates_dir else None
    graph = _read_json(journey_file, "journey")
    contact = _read_json(contact_file, "contact")
    events = _read_json(events_file, "events") if events_file else None
    start = _moment(start_text, "--start")
    if not events and start is None:
        _fail("without --events, give --start: the trigger event happens then")
    try:
        timeline = simulation.run(graph, contact=contact, events=events, start=start,
                                  until=_moment(until_text, "--until"), templates=templates,
                                  key=Path(journey_file).stem)
    except InvalidJourney as exc:
        for problem in exc.problems:
            click.echo(f"{problem.node or '-'}: {problem.code}: {problem.message}", err=True)
        sys.exit(2)
    except JourneyError as exc:
        _fail(str(exc))
    click.echo(json.dumps(timeline, indent=2, ensure_ascii=False))


def _templates(folder: Path) -> dict[str, TemplateSource]:
    if not folder.is_dir():
        _fail(f"--templates {folder}: no such folder")
    templates = {}
    for path in sorted(folder.glob("*.json")):
        data = _read_json(str(path), "template")
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("subject", "mjml")):
            _fail(f"{path}: a template needs text fields subject and mjml")
        category = data.get("category", "marketing")
        if category not in ("marketing", "transactional"):
            _fail(f"{path}: category must be marketing or transactional")
        templates[path.stem] = TemplateSource(subject=data["subject"], mjml=data["mjml"],
                                              preheader=str(data.get("preheader") or ""),
                                              category=category)
    return templates


def _read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"{what} file {path}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{what} file {path}: cannot be read ({exc})")
    except json.JSONDecodeError as exc:
        _fail(f"{what} file {path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")


def _moment(text: str | None, option: str):  # type: ignore[no-untyped-def]
    if text is None:
        return None
    moment = parse_timestamp(text)
    if moment is None:
        _fail(f"{option} {text!r} is not an ISO 8601 timestamp such as 2026-12-01T09:00:00Z")
    return moment


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)
