"""The journey editor's server side, continued: publishing, versions, live counts, the simulator
and the journeys list."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app import clock
from app.db import db
from app.models import Journey, JourneyStatus, JourneyVersion, Template
from app.services import journeys as journey_service
from app.starters import journey_starters
from app.web.canvas_meta import draft_hash
from tests import engine_support
from tests.conftest import page_csrf
from tests.editor_support import GRAPH, make_journey, post, save, stored_draft

# --- publish and versions ----------------------------------------------------------------------

def test_publishing_is_refused_while_there_are_errors(app, login):
    client = login("marketer")
    journey_id = make_journey(app, template=False)  # the send's template does not exist
    dialog = client.get(f"/journeys/{journey_id}/publish").get_data(as_text=True)
    assert "Publishing is refused" in dialog and "template &#39;hello&#39; does not exist" in dialog
    answer = post(client, f"/journeys/{journey_id}/publish", data={"hash": draft_hash(GRAPH), "notes": "go"})
    assert answer.status_code == 422
    with app.app_context():
        assert db.session.query(JourneyVersion).count() == 0


def test_publish_needs_a_note_confirmed_warnings_and_the_reviewed_draft(app, login):
    client = login("marketer")
    graph = {**GRAPH, "settings": {}}  # no exit events: a warning
    journey_id = make_journey(app, graph)
    url = f"/journeys/{journey_id}/publish"
    dialog = client.get(url).get_data(as_text=True)
    assert "First version" in dialog and "no exit events" in dialog
    answer = post(client, url, data={"hash": draft_hash(graph), "notes": ""})
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "Say in a few words" in text and "Tick the box" in text
    stale = post(client, url, data={"hash": "old", "notes": "go", "confirm_warnings": "1"})
    assert stale.status_code == 409 and "The draft changed" in stale.get_data(as_text=True)
    done = post(client, url, data={"hash": draft_hash(graph), "notes": "go", "confirm_warnings": "1"})
    assert done.status_code == 200 and "Version 1" in done.get_data(as_text=True)
    assert json.loads(done.headers["HX-Trigger"]) == {"journeys:published": {"version": 1, "status": "active"}}
    with app.app_context():
        version = db.session.query(JourneyVersion).one()
        assert version.notes == "go" and version.published_by_id is not None
        assert db.session.get(Journey, journey_id).status == JourneyStatus.active


def test_history_lists_versions_and_restores_one_as_the_draft(app, login):
    client = login("marketer")
    journey_id = make_journey(app, publish=True)
    changed = {**GRAPH, "nodes": [*GRAPH["nodes"][:1], engine_support.wait("w1", "P9D"), *GRAPH["nodes"][2:]]}
    save(client, journey_id, {"graph": changed, "base": draft_hash(GRAPH)})
    listing = client.get(f"/journeys/{journey_id}/versions").get_data(as_text=True)
    assert "v1" in listing and "Restore as draft" in listing
    shown = client.get(f"/journeys/{journey_id}/versions/1").get_data(as_text=True)
    assert "Version 1, read-only" in shown and '"editable": false' in shown
    assert client.get(f"/journeys/{journey_id}/versions/7").status_code == 404
    answer = post(client, f"/journeys/{journey_id}/versions/1/restore")
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == f"/journeys/{journey_id}?restored=1"
    assert stored_draft(app, journey_id) == GRAPH


# --- live counts and the simulator ------------------------------------------------------------

def test_counts_show_who_waits_where(app, login):
    client = login("viewer")
    journey_id = make_journey(app, publish=True)
    assert client.get(f"/journeys/{journey_id}/counts").get_json()["nodes"] == {}
    engine_support.post(app, engine_support.event("signed_up", "ana@shop.example"))
    engine_support.work(app)
    nodes = client.get(f"/journeys/{journey_id}/counts").get_json()["nodes"]
    assert nodes["w1"]["waiting"] == 1 and nodes["start"]["passed"] == 1
    assert nodes["w1"]["passed"] == 0


def _simulate(client, journey_id: int, **fields: Any):  # type: ignore[no-untyped-def]
    data = {"graph": json.dumps(GRAPH), "who": "sample", "start": "2026-12-01T09:00",
            "sample": json.dumps({"email": "ana@example.com", "attributes": {"first_name": "Ana"},
                                  "consent": {"marketing": "subscribed"}}),
            "event_0": "signed_up", "after_0": "0", "unit_0": "H", **fields}
    return post(client, f"/journeys/{journey_id}/simulate", data=data)


def test_the_simulator_runs_the_canvas_for_a_sample_profile(app, login):
    client = login("viewer")
    journey_id = make_journey(app)
    html = _simulate(client, journey_id).get_data(as_text=True)
    steps = json.loads(re.search(r"data-steps='([^']*)'", html).group(1).replace("&#34;", '"'))
    assert [(s["node"], s["outcome"]) for s in steps] == [
        ("start", "entered"), ("w1", "waiting"), ("w1", "resumed"), ("m1", "sent"), ("end", "completed")]
    assert steps[3]["offset"] == "+2h" and steps[3]["subject"] == "Hello Ana"
    email = post(client, f"/journeys/{journey_id}/simulate/email", data={
        "template": "hello", "contact": json.dumps({"email": "ana@example.com", "attributes": {"first_name": "Ana"}}),
        "event": "{}"})
    assert "Subject:</b> Hello Ana" in email.get_data(as_text=True)
    assert "frame-ancestors 'self'" in email.headers["Content-Security-Policy"]


def test_an_order_within_the_wait_is_a_scripted_event(app, login):
    client = login("viewer")
    graph = engine_support.chain("signed_up", {"id": "w1", "type": "wait", "config": {"event": "order_placed",
                                                                                       "timeout": "P1D"}})
    graph["edges"] = [{"from": "start", "to": "w1"}, {"from": "w1", "to": "end", "port": "event"},
                      {"from": "w1", "to": "end", "port": "timeout"}]
    journey_id = make_journey(app, graph)
    html = _simulate(client, journey_id, graph=json.dumps(graph), event_1="order_placed", after_1="2",
                     unit_1="H", props_1='{"total": 50}').get_data(as_text=True)
    assert "w1</code> <span class=\"sim-outcome\">resumed</span>" in html
    assert "→ event" in html


@pytest.mark.parametrize("fields, message", [
    ({"sample": "{not json"}, "not valid JSON"),
    ({"sample": json.dumps({"attributes": {}})}, "email"),
    ({"who": "contact", "contact_email": "ghost@example.com"}, "No contact has the address"),
    ({"props_0": "[1,"}, "the properties are not valid JSON"),
    ({"event_0": ""}, "Script at least the trigger event"),
    ({"graph": json.dumps({"schema": 1, "nodes": [], "edges": []})}, "a journey needs exactly one trigger"),
])
def test_the_simulator_explains_bad_input(app, login, fields, message):
    client = login("viewer")
    journey_id = make_journey(app)
    answer = _simulate(client, journey_id, **fields)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True).replace("&#39;", "'")


def test_the_contact_picker_suggests_addresses(app, login):
    client = login("viewer")
    journey_id = make_journey(app)
    engine_support.post(app, engine_support.event("browsed", "zofia@shop.example"))
    engine_support.work(app)
    html = client.get(f"/journeys/{journey_id}/simulate/contacts?contact_email=zof").get_data(as_text=True)
    assert '<option value="zofia@shop.example">' in html


# --- the list ------------------------------------------------------------------------------------

def test_a_starter_brings_its_missing_templates_once(app, login):
    client = login("marketer")
    token = page_csrf(client, "/journeys")
    with app.app_context():
        with db.transaction() as s:
            engine_support.template(s, "cart-reminder", "Ours, not the starter's")
    answer = client.post("/journeys", data={"csrf_token": token, "starter": "abandoned-cart", "name": ""})
    assert answer.status_code == 302
    with app.app_context():
        journey = db.session.query(Journey).one()
        assert journey.name == "Abandoned cart"
        slugs = sorted(t.slug for t in db.session.query(Template))
        assert slugs == ["cart-last-chance", "cart-reminder"]
        assert journey_service.validate_draft(db.session, journey).errors == ()
    client.post("/journeys", data={"csrf_token": token, "starter": "abandoned-cart", "name": "Second"})
    with app.app_context():
        assert db.session.query(Template).count() == 2


def test_every_starter_is_a_valid_journey_with_its_templates(app):
    with app.app_context():
        with db.transaction() as s:
            for starter in journey_starters.starters():
                journey = journey_starters.create_from_starter(s, starter.key, name=None, user_id=None,
                                                               now=clock.now())
                report = journey_service.validate_draft(s, journey)
                assert report.errors == (), (starter.key, report.errors)
                positions = journey.draft["ui"]["positions"]
                assert set(positions) == {n["id"] for n in journey.draft["nodes"]}


def test_creating_needs_a_name_for_a_blank_canvas(app, login):
    client = login("marketer")
    token = page_csrf(client, "/journeys")
    answer = client.post("/journeys", data={"csrf_token": token, "starter": "", "name": " "})
    assert answer.status_code == 422 and "Give the journey a name" in answer.get_data(as_text=True)
    unknown = client.post("/journeys", data={"csrf_token": token, "starter": "teleport", "name": "x"})
    assert unknown.status_code == 404 and "There is no journey starter" in unknown.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Journey).count() == 0


def test_lifecycle_buttons_say_when_nothing_changed(app, login):
    client = login("marketer")
    journey_id = make_journey(app)
    token = page_csrf(client, "/journeys")
    client.post(f"/journeys/{journey_id}/pause", data={"csrf_token": token})
    page = client.get("/journeys").get_data(as_text=True)
    assert "Nothing changed: only an active journey can be paused; this one is draft." in page


def test_the_dialog_names_changes_beyond_the_steps(app, login):
    client = login("marketer")
    journey_id = make_journey(app, publish=True)
    url = f"/journeys/{journey_id}/publish"
    same = client.get(url).get_data(as_text=True)
    assert "nothing new to publish" in same and "Publish version 2" not in same
    moved = {**GRAPH, "ui": {"positions": {"start": [10, 10]}}}
    save(client, journey_id, {"graph": moved, "base": draft_hash(GRAPH)})
    assert "Only the layout changed" in client.get(url).get_data(as_text=True)
    rewired = {**moved, "settings": {"exit_events": ["order_placed", "refunded"]},
               "nodes": [*GRAPH["nodes"][:-1], engine_support.wait("w2", "P1D"), GRAPH["nodes"][-1]],
               "edges": [*GRAPH["edges"][:-1], {"from": "m1", "to": "w2"}, {"from": "w2", "to": "end"}]}
    save(client, journey_id, {"graph": rewired, "base": draft_hash(moved)})
    text = client.get(url).get_data(as_text=True)
    assert "<code>w2</code> added" in text and "connections: 2 added, 1 removed" in text
    assert "journey settings changed" in text and "Publish version 2" in text
