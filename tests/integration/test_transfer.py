"""Journeys as JSON files, over the API and the CLI: export, import into a fresh workspace, all or
nothing, and never a different template silently overwritten."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app import clock, create_app
from app.db import db
from app.models import Journey, Template, TemplateVersion
from tests.api_support import Key, make_key
from tests.engine_support import chain, send, wait
from tests.integration.test_api_events import assert_problem
from tests.integration.test_api_journeys import MJML

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
GRAPH = chain("signed_up", send("hello", "welcome"), wait("pause", "P1D"), send("tips", "tips"))


@pytest.fixture
def key(app) -> Key:  # type: ignore[no-untyped-def]
    clock.set_source(lambda: T0)
    return make_key(app, "journeys:read,journeys:write,templates:read,templates:write")


def seed(client: Any, key: Key) -> int:
    for slug in ("welcome", "tips", "unused"):
        client.post("/api/v1/templates", json={"slug": slug, "subject": f"{slug} subject", "mjml": MJML},
                    headers=key.headers)
    return client.post("/api/v1/journeys", json={"name": "Welcome series", "graph": GRAPH}, headers=key.headers).json["id"]


def wipe(application: Any) -> None:
    with application.app_context():
        with db.transaction() as s:
            for model in (Journey, TemplateVersion, Template):
                s.query(model).delete()


def counts(application: Any) -> tuple[int, int, int]:
    with application.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[return-value]
                     for m in (Journey, Template, TemplateVersion))


def test_export_then_import_into_an_empty_workspace(app, client, key):
    ident = seed(client, key)
    exported = client.get(f"/api/v1/journeys/{ident}/export", headers=key.headers)
    assert exported.status_code == 200
    document = exported.json
    assert (document["format"], document["version"], document["journey"]["name"]) == ("journeys.export", 1,
                                                                                       "Welcome series")
    assert document["journey"]["graph"] == GRAPH
    assert [t["slug"] for t in document["templates"]] == ["welcome", "tips"]  # not the unused one
    wipe(app)
    imported = client.post("/api/v1/journeys/import", json=document, headers=key.headers)
    assert imported.status_code == 201, imported.json
    assert imported.json["templates"] == {"created": ["welcome", "tips"], "unchanged": [], "replaced": []}
    journey = imported.json["journey"]
    assert journey["status"] == "draft" and journey["graph"] == GRAPH and journey["validation"]["ok"] is True
    again = client.post("/api/v1/journeys/import", json=document, headers=key.headers).json
    assert again["templates"] == {"created": [], "unchanged": ["welcome", "tips"], "replaced": []}
    assert counts(app) == (2, 2, 2)


def test_a_different_template_with_the_same_slug_is_refused_unless_replacing(app, client, key):
    ident = seed(client, key)
    document = client.get(f"/api/v1/journeys/{ident}/export", headers=key.headers).json
    document["templates"][1]["subject"] = "Changed elsewhere"
    before = counts(app)
    body = assert_problem(client.post("/api/v1/journeys/import", json=document, headers=key.headers), 422)
    assert body["errors"][0]["pointer"] == "/templates/1" and "tips" in body["errors"][0]["detail"]
    assert counts(app) == before  # no journey either: all or nothing
    replaced = client.post("/api/v1/journeys/import?replace_templates=true", json=document, headers=key.headers)
    assert replaced.status_code == 201
    assert replaced.json["templates"] == {"created": [], "unchanged": ["welcome"], "replaced": ["tips"]}
    tips = client.get("/api/v1/templates/tips", headers=key.headers).json
    assert (tips["version"], tips["subject"]) == (2, "Changed elsewhere")


@pytest.mark.parametrize("change, pointer", [
    (lambda d: d.update(format="other"), "/format"),
    (lambda d: d.update(version=2), "/version"),
    (lambda d: d["journey"].pop("graph"), "/journey/graph"),
    (lambda d: d["journey"]["graph"].update(schema=9), "/journey/graph/schema"),
    (lambda d: d["templates"][0].update(mjml="<mjml><mj-body>"), "/templates/0/mjml"),
    (lambda d: d["templates"].append(dict(d["templates"][0])), "/templates/2/slug"),
    (lambda d: d["templates"][0].update(slug="Bad Slug"), "/templates/0/slug"),
    (lambda d: d.update(extra=True), "/extra"),
])
def test_a_bad_file_is_422_by_pointer_and_imports_nothing(app, client, key, change, pointer):
    ident = seed(client, key)
    document = client.get(f"/api/v1/journeys/{ident}/export", headers=key.headers).json
    change(document)
    before = counts(app)
    body = assert_problem(client.post("/api/v1/journeys/import", json=document, headers=key.headers), 422)
    assert pointer in [p["pointer"] for p in body["errors"]], body
    assert counts(app) == before


def test_export_of_an_unknown_journey_is_404(app, client, key):
    assert_problem(client.get("/api/v1/journeys/999999/export", headers=key.headers), 404)


# --- the CLI -----------------------------------------------------------------------------------

@pytest.fixture
def cli_app(app, settings, monkeypatch):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    monkeypatch.setattr("app.cli.context.create_app", lambda: application)
    yield application
    application.extensions["db_engine"].dispose()


def cli(*args: str) -> Any:
    from app.cli import main

    return CliRunner().invoke(main, list(args), prog_name="journeys")


def test_cli_export_all_then_import_them_back(cli_app, key, tmp_path: Path):
    client = cli_app.test_client()
    first = seed(client, key)
    second = client.post("/api/v1/journeys", json={"name": "Second", "graph": GRAPH}, headers=key.headers).json["id"]
    out = cli("export", "--all", "--out", str(tmp_path / "out"))
    assert out.exit_code == 0, out.output
    paths = out.output.split()
    assert [Path(p).name for p in paths] == [f"{first}-welcome-series.json", f"{second}-second.json"]
    assert json.loads(Path(paths[0]).read_text())["journey"]["name"] == "Welcome series"
    one = cli("export", "--journey", str(second), "--out", str(tmp_path / "one"))
    assert one.exit_code == 0 and len(one.output.split()) == 1
    wipe(cli_app)
    done = cli("import", *paths)
    assert done.exit_code == 0, done.output
    assert "created: welcome, tips" in done.output and "Imported 2 journey(s)" in done.output
    assert counts(cli_app) == (2, 2, 2)


def test_cli_import_is_all_or_nothing_with_each_problem_on_its_line(cli_app, key, tmp_path: Path):
    client = cli_app.test_client()
    ident = seed(client, key)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(client.get(f"/api/v1/journeys/{ident}/export", headers=key.headers).json))
    clash = json.loads(good.read_text())
    clash["templates"][0]["mjml"] = MJML.replace("Hi", "Hello")
    (tmp_path / "clash.json").write_text(json.dumps(clash))
    (tmp_path / "broken.json").write_text("{")
    before = counts(cli_app)
    refused = cli("import", str(good), str(tmp_path / "clash.json"))
    assert refused.exit_code == 1
    assert "clash.json" in refused.stderr and "welcome" in refused.stderr and "Nothing was imported" in refused.stderr
    assert counts(cli_app) == before
    broken = cli("import", str(good), str(tmp_path / "broken.json"))
    assert broken.exit_code == 1 and "broken.json: not JSON" in broken.stderr
    assert cli("import", str(tmp_path / "missing.json")).exit_code == 1
    assert counts(cli_app) == before
    replaced = cli("import", "--replace-templates", str(tmp_path / "clash.json"))
    assert replaced.exit_code == 0 and "replaced: welcome" in replaced.output


def test_cli_export_needs_a_choice(cli_app, tmp_path: Path):
    assert cli("export", "--out", str(tmp_path)).exit_code == 1
    assert cli("export", "--all", "--journey", "1", "--out", str(tmp_path)).exit_code == 1
    missing = cli("export", "--journey", "999", "--out", str(tmp_path))
    assert missing.exit_code == 1 and "No journey 999" in missing.stderr
