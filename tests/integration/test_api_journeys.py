"""Journeys API: drafts, validation, publish, lifecycle, statistics and simulation."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app import clock
from app.db import db
from app.models import AuditEntry, Enrollment, Journey, JourneyVersion
from tests.api_support import Key, make_key
from tests.engine_support import chain, send, wait, work
from tests.integration.test_api_events import assert_problem
from tests.integration.test_simulate_cli import normalise

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples" / "simulate"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
URL = "/api/v1/journeys"
MJML = ("<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text><mj-text><a href=\"{{ unsubscribe_url }}\">"
        "Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>")
GRAPH = chain("signed_up", send("hello", "welcome"), wait("pause", "P1D"), send("later", "welcome"),
              settings={"exit_events": ["order_placed"]})


@pytest.fixture
def key(app) -> Key:  # type: ignore[no-untyped-def]
    clock.set_source(lambda: T0)
    return make_key(app, "journeys:read,journeys:write,templates:write,events:write")


def add_template(client: Any, key: Key, slug: str = "welcome", **extra: Any) -> None:
    resp = client.post("/api/v1/templates", json={"slug": slug, "subject": "Welcome, {{ contact.first_name }}",
                                                  "mjml": MJML, **extra}, headers=key.headers)
    assert resp.status_code == 201, resp.json


def create(client: Any, key: Key, graph: Any = GRAPH, name: str = "Welcome") -> Any:
    return client.post(URL, json={"name": name, "graph": graph}, headers=key.headers)


def counts(application: Any) -> tuple[int, int]:
    with application.app_context():
        return (db.session.scalar(select(func.count()).select_from(Journey)) or 0,
                db.session.scalar(select(func.count()).select_from(JourneyVersion)) or 0)


def test_create_stores_the_draft_even_with_errors_and_reports_them(app, client, key):
    resp = create(client, key)
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert isinstance(body["id"], int) and body["status"] == "draft" and body["live_version"] is None
    assert body["graph"] == GRAPH and body["draft_changed"] is True and body["versions"] == []
    assert body["validation"]["ok"] is False
    assert {(p["code"], p["node"]) for p in body["validation"]["errors"]} == {("template.unknown", "hello"),
                                                                              ("template.unknown", "later")}
    assert client.get(f"{URL}/{body['id']}", headers=key.headers).json == body


def test_without_a_graph_a_journey_starts_from_a_trigger(app, client, key):
    resp = client.post(URL, json={"name": "New"}, headers=key.headers)
    assert resp.status_code == 201 and [n["type"] for n in resp.json["graph"]["nodes"]] == ["trigger"]


@pytest.mark.parametrize("data, pointer", [
    ({"name": "X", "graph": {"schema": 2, "nodes": [], "edges": []}}, "/graph/schema"),
    ({"name": "X", "graph": {"schema": 1, "nodes": {}, "edges": []}}, "/graph/nodes"),
    ({"name": "X", "graph": {"schema": 1, "nodes": [], "edges": [], "colour": 1}}, "/graph/colour"),
    ({"name": "X", "graph": {"schema": 1, "nodes": [], "edges": [], "settings": []}}, "/graph/settings"),
    ({"name": "X", "graph": []}, "/graph"),
    ({"name": "", "graph": GRAPH}, "/name"),
    ({"name": "   ", "graph": GRAPH}, "/name"),
    ({"graph": GRAPH}, "/name"),
    ({"name": "X", "graph": GRAPH, "status": "active"}, "/status"),
])
def test_a_graph_not_shaped_like_schema_1_or_a_bad_name_is_422(app, client, key, data, pointer):
    body = assert_problem(client.post(URL, json=data, headers=key.headers), 422)
    assert pointer in [p["pointer"] for p in body["errors"]], body
    assert counts(app) == (0, 0)


def test_list_read_update(app, client, key):
    first = create(client, key, name="One").json
    create(client, key, name="Two")
    listing = client.get(URL, headers=key.headers)
    assert listing.status_code == 200
    assert [j["name"] for j in listing.json["items"]] == ["Two", "One"]
    assert listing.json["items"][0] == {**listing.json["items"][0], "status": "draft", "live_version": None,
                                        "inside": 0, "sent_7d": 0}
    changed = copy.deepcopy(GRAPH)
    changed["nodes"][2]["config"]["duration"] = "P2D"
    resp = client.put(f"{URL}/{first['id']}", json={"name": "One, renamed", "graph": changed}, headers=key.headers)
    assert resp.status_code == 200 and resp.json["name"] == "One, renamed" and resp.json["graph"] == changed
    assert client.put(f"{URL}/{first['id']}", json={"name": "Just the name"}, headers=key.headers).json["graph"] == changed
    assert_problem(client.put(f"{URL}/{first['id']}", json={}, headers=key.headers), 422)
    assert_problem(client.put(f"{URL}/{first['id']}", json={"graph": {"nodes": []}}, headers=key.headers), 422)
    assert_problem(client.put(f"{URL}/999999", json={"name": "x"}, headers=key.headers), 404)
    assert_problem(client.get(f"{URL}/999999", headers=key.headers), 404)
    assert client.get(f"{URL}/{first['id']}", headers=key.headers).json["name"] == "Just the name"


def test_validate_the_draft_or_a_given_graph(app, client, key):
    ident = create(client, key).json["id"]
    draft = client.post(f"{URL}/{ident}/validate", headers=key.headers)
    assert draft.status_code == 200 and draft.json["ok"] is False
    broken = copy.deepcopy(GRAPH)
    broken["edges"].append({"from": "pause", "to": "ghost"})
    given = client.post(f"{URL}/{ident}/validate", json={"graph": broken}, headers=key.headers).json
    assert "edge.missing_node" in {p["code"] for p in given["errors"]}
    add_template(client, key)
    fixed = client.post(f"{URL}/{ident}/validate", json={}, headers=key.headers).json
    assert fixed["ok"] is True and fixed["errors"] == []
    assert_problem(client.post(f"{URL}/{ident}/validate", json={"graph": 1}, headers=key.headers), 422)


def test_publishing_an_invalid_draft_is_422_with_every_problem_and_publishes_nothing(app, client, key):
    ident = create(client, key).json["id"]
    resp = client.post(f"{URL}/{ident}/publish", headers=key.headers)
    body = assert_problem(resp, 422)
    assert sorted(p["pointer"] for p in body["errors"]) == ["/graph/nodes/1", "/graph/nodes/3"]
    assert all("[template.unknown]" in p["detail"] for p in body["errors"])
    assert {(p["code"], p["node"]) for p in body["problems"]} == {("template.unknown", "hello"),
                                                                  ("template.unknown", "later")}
    assert counts(app) == (1, 0)
    assert client.get(f"{URL}/{ident}", headers=key.headers).json["status"] == "draft"


def test_publish_then_publish_again(app, client, key):
    add_template(client, key)
    ident = create(client, key).json["id"]
    first = client.post(f"{URL}/{ident}/publish", json={"notes": "first cut"}, headers=key.headers)
    assert first.status_code == 200, first.json
    assert first.json["published"] is True and first.json["version"]["number"] == 1
    assert first.json["version"]["notes"] == "first cut"
    assert first.json["journey"]["status"] == "active" and first.json["journey"]["draft_changed"] is False
    same = client.post(f"{URL}/{ident}/publish", headers=key.headers).json
    assert same["published"] is False and same["version"]["number"] == 1
    changed = copy.deepcopy(GRAPH)
    changed["nodes"][2]["config"]["duration"] = "PT1H"
    client.put(f"{URL}/{ident}", json={"graph": changed}, headers=key.headers)
    second = client.post(f"{URL}/{ident}/publish", json={"migrate_waiting": True}, headers=key.headers).json
    assert second["published"] is True and second["version"]["number"] == 2
    assert [v["number"] for v in second["journey"]["versions"]] == [2, 1]
    assert_problem(client.post(f"{URL}/{ident}/publish", json={"notes": 3}, headers=key.headers), 422)
    assert_problem(client.post(f"{URL}/{ident}/publish", json={"force": True}, headers=key.headers), 422)
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("journey.%"))))
        assert actions.count("journey.publish") == 2


def test_pause_resume_archive_and_their_wrong_states(app, client, key):
    add_template(client, key)
    ident = create(client, key).json["id"]
    assert assert_problem(client.post(f"{URL}/{ident}/pause", headers=key.headers), 409)["detail"].startswith(
        "only an active journey")
    client.post(f"{URL}/{ident}/publish", headers=key.headers)
    assert_problem(client.post(f"{URL}/{ident}/resume", headers=key.headers), 409)
    assert client.post(f"{URL}/{ident}/pause", headers=key.headers).json["status"] == "paused"
    assert_problem(client.post(f"{URL}/{ident}/pause", headers=key.headers), 409)
    assert client.post(f"{URL}/{ident}/resume", headers=key.headers).json["status"] == "active"
    client.post("/api/v1/events", json={"event": "signed_up", "contact": {
        "email": "a@example.com", "consent": {"marketing": "subscribed"}}}, headers=key.headers)
    work(app)
    archived = client.post(f"{URL}/{ident}/archive", headers=key.headers)
    assert archived.status_code == 200 and archived.json["exited"] == 1
    assert archived.json["journey"]["status"] == "archived"
    assert_problem(client.post(f"{URL}/{ident}/archive", headers=key.headers), 409)
    with app.app_context():
        assert db.session.scalar(select(Enrollment.exit_reason)) == "journey_archived"
    for action in ("pause", "resume", "archive", "publish"):
        assert_problem(client.post(f"{URL}/999999/{action}", headers=key.headers), 404)


def test_stats_count_the_contacts_and_messages(app, client, key):
    add_template(client, key)
    ident = create(client, key).json["id"]
    client.post(f"{URL}/{ident}/publish", headers=key.headers)
    for email in ("a@example.com", "b@example.com"):
        client.post("/api/v1/events", json={"event": "signed_up", "contact": {
            "email": email, "consent": {"marketing": "subscribed"}}}, headers=key.headers)
    client.post("/api/v1/events", json={"event": "order_placed", "contact": {"email": "b@example.com"}},
                headers=key.headers)
    work(app)
    stats = client.get(f"{URL}/{ident}/stats", headers=key.headers)
    assert stats.status_code == 200
    body = stats.json
    assert (body["entered"], body["inside"], body["completed"], body["exited"]) == (2, 1, 0, {"exit_event": 1})
    assert body["messages"] == {"sent": 2}
    assert body["nodes"]["hello"]["messages"] == {"sent": 2} and body["nodes"]["hello"]["reached"] == 2
    assert body["nodes"]["pause"]["waiting"] == 1 and body["nodes"]["pause"]["passed"] == 1
    listing = client.get(URL, headers=key.headers).json["items"][0]
    assert (listing["inside"], listing["sent_7d"], listing["live_version"]) == (1, 2, 1)
    assert_problem(client.get(f"{URL}/999999/stats", headers=key.headers), 404)


def shared(name: str, part: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.{part}.json").read_text())


@pytest.mark.parametrize("name", ["cart", "welcome"])
def test_simulate_gives_what_the_cli_gives_for_the_shared_examples(app, client, key, name):
    for path in sorted((EXAMPLES / "templates").glob("*.json")):
        add_template(client, key, path.stem, **{k: v for k, v in json.loads(path.read_text()).items()
                                                if k != "slug"} | {"mjml": json.loads(path.read_text())["mjml"]})
    ident = create(client, key, shared(name, "journey")).json["id"]
    resp = client.post(f"{URL}/{ident}/simulate", headers=key.headers,
                       json={"contact": shared(name, "contact"), "events": shared(name, "events")})
    assert resp.status_code == 200, resp.json
    got, expected = normalise(resp.json), normalise(shared(name, "expected"))
    assert got["final"] == expected["final"]
    assert [{k: step.get(k) for k in want} for step, want in zip(got["steps"], expected["steps"])] == expected["steps"]
    assert len(got["steps"]) == len(expected["steps"])


def test_simulate_refusals(app, client, key):
    ident = create(client, key).json["id"]
    url = f"{URL}/{ident}/simulate"
    contact = {"email": "a@example.com", "consent": {"marketing": "subscribed"}}
    invalid = assert_problem(client.post(url, json={"contact": contact, "start": "2026-12-01T09:00:00Z"},
                                         headers=key.headers), 422)
    assert {p["code"] for p in invalid["problems"]} == {"template.unknown"}
    add_template(client, key)
    ok = client.post(url, json={"contact": contact, "start": "2026-12-01T09:00:00Z", "until": "2026-12-01T12:00:00Z"},
                     headers=key.headers)
    assert ok.status_code == 200 and ok.json["final"]["state"] == "waiting"
    for body, pointer in [
        ({"contact": contact}, ""),
        ({"contact": contact, "start": "tuesday"}, "/start"),
        ({"contact": {"email": "nope"}, "start": "2026-12-01T09:00:00Z"}, "/contact/email"),
        ({"contact": contact, "events": [{"event": "signed_up", "at": "soon"}]}, "/events/0/at"),
        ({"contact": contact, "start": "2026-12-01T09:00:00Z", "version": "live"}, "/version"),
        ({"start": "2026-12-01T09:00:00Z"}, "/contact"),
    ]:
        problem = assert_problem(client.post(url, json=body, headers=key.headers), 422)
        assert pointer in [p["pointer"] for p in problem["errors"]], (body, problem)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
