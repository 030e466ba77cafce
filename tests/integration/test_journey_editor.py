"""The journey editor's server side: autosave, node and settings forms, publish, versions,
live counts and the simulator, against the real database (no browser)."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app import clock
from app.db import db
from app.models import AuditEntry, Journey, JourneyStatus, JourneyVersion, Template
from app.services import journeys as journey_service
from app.starters import journey_starters
from app.web.canvas_meta import draft_hash
from tests import engine_support
from tests.conftest import page_csrf

GRAPH = engine_support.chain("signed_up", engine_support.wait("w1", "PT2H"), engine_support.send("m1", "hello"),
                             settings={"exit_events": ["order_placed"]})


def _journey(app, graph: dict[str, Any] | None = None, *, template: bool = True,  # type: ignore[no-untyped-def]
             publish: bool = False) -> int:
    with app.app_context():
        with db.transaction() as s:
            if template:
                engine_support.template(s, "hello", "Hello {{ contact.first_name|default('you') }}")
            row = journey_service.create_journey(s, name="Welcome", graph=graph or GRAPH, user_id=None,
                                                 now=clock.now())
            if publish:
                journey_service.publish_journey(s, row, user=None, notes="v1", now=clock.now())
            return row.id


def _draft(app, journey_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.get(Journey, journey_id).draft


def _post(client, url: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    headers = {"X-CSRFToken": page_csrf(client), "HX-Request": "true", **kwargs.pop("headers", {})}
    return client.post(url, headers=headers, **kwargs)


def _save(client, journey_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    """As the editor's autosave sends it (fetch, JSON both ways)."""
    return client.post(f"/journeys/{journey_id}/draft", data=json.dumps(body), headers={
        "X-CSRFToken": page_csrf(client), "Content-Type": "application/json", "Accept": "application/json"})


def _result(html: str) -> dict[str, Any]:
    match = re.search(r"data-result='([^']*)'", html)
    assert match, html
    return json.loads(match.group(1).replace("&#34;", '"').replace("&amp;", "&"))


# --- autosave ---------------------------------------------------------------------------------

def test_a_save_stores_the_graph_and_answers_with_its_problems(app, login):
    client = login("marketer")
    journey_id = _journey(app)
    graph = json.loads(json.dumps(GRAPH))
    graph["edges"] = [e for e in graph["edges"] if e["from"] != "m1"]  # the send's next step is gone
    answer = _save(client, journey_id, {"graph": graph, "base": draft_hash(GRAPH), "name": "Welcome 2"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    data = answer.get_json()
    assert _draft(app, journey_id) == graph
    assert data["hash"] == draft_hash(graph) and data["name"] == "Welcome 2"
    assert [(p["node"], p["code"]) for p in data["report"]["errors"]] == [("m1", "port.missing"),
                                                                           ("end", "node.unreachable")]
    assert data["meta"]["w1"] == {"label": "Wait", "summary": "Wait 2 hours", "ports": [None]}
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="journey.update").one()
        assert entry.actor == "marketer@example.com"


def test_a_save_over_someone_elses_edit_is_refused_until_forced(app, login):
    client = login("marketer")
    journey_id = _journey(app)
    mine = {**GRAPH, "settings": {"exit_events": ["x"]}}
    theirs = {**GRAPH, "settings": {"exit_events": ["y"]}}
    assert _save(client, journey_id, {"graph": theirs, "base": draft_hash(GRAPH)}).status_code == 200
    refused = _save(client, journey_id, {"graph": mine, "base": draft_hash(GRAPH)})
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "draft_changed"
    assert "changed elsewhere (marketer@example.com" in refused.get_json()["detail"]
    assert _draft(app, journey_id)["settings"] == {"exit_events": ["y"]}
    forced = _save(client, journey_id, {"graph": mine, "base": draft_hash(GRAPH), "force": True})
    assert forced.status_code == 200
    assert _draft(app, journey_id)["settings"] == {"exit_events": ["x"]}


@pytest.mark.parametrize("body, where", [
    ({"base": "x"}, "/graph"),
    ({"graph": {"schema": 2, "nodes": [], "edges": []}}, "/graph/schema"),
    ({"graph": {"schema": 1, "nodes": {}, "edges": []}}, "/graph/nodes"),
    ({"graph": GRAPH, "name": "   "}, "/name"),
])
def test_a_bad_save_changes_nothing_and_says_why(app, login, body, where):
    client = login("marketer")
    journey_id = _journey(app)
    answer = _save(client, journey_id, {"base": draft_hash(GRAPH), **body})
    assert answer.status_code == 422
    assert where in [e.get("pointer") for e in answer.get_json()["errors"]]
    assert _draft(app, journey_id) == GRAPH


def test_viewers_cannot_save_and_archived_journeys_cannot_be_edited(app, client, login):
    journey_id = _journey(app)
    viewer = login("viewer")
    assert _save(viewer, journey_id, {"graph": GRAPH, "base": draft_hash(GRAPH)}).status_code == 403
    viewer.post("/logout", data={"csrf_token": page_csrf(viewer)})
    marketer = login("marketer")
    with app.app_context():
        with db.transaction() as s:
            journey_service.archive_journey(s, s.get(Journey, journey_id), user=None, now=clock.now())
    answer = _save(marketer, journey_id, {"graph": {**GRAPH, "nodes": []}, "base": draft_hash(GRAPH)})
    assert answer.status_code == 409 and "archived" in answer.get_json()["detail"]
    assert _draft(app, journey_id) == GRAPH


def test_the_editor_page_carries_the_graph_and_marks_viewers_read_only(app, login):
    journey_id = _journey(app)
    client = login("viewer")
    page = client.get(f"/journeys/{journey_id}").get_data(as_text=True)
    boot = json.loads(re.search(r'id="editor-boot">(.*?)</script>', page, re.S).group(1))
    assert boot["graph"] == GRAPH and boot["editable"] is False
    assert boot["meta"]["m1"]["summary"] == "hello"
    assert "palette-item" not in page and "is-readonly" in page
    assert client.get("/journeys/999999").status_code == 404


# --- node and settings forms --------------------------------------------------------------------

def _node_form(client, journey_id: int, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return _post(client, f"/journeys/{journey_id}/node-form", data=data)


def test_opening_a_node_draws_its_form_from_the_config(app, login):
    client = login("marketer")
    journey_id = _journey(app)
    html = _node_form(client, journey_id, {"_node": "w1", "_type": "wait",
                                           "_config": json.dumps({"event": "order_placed", "timeout": "P3D"})}
                      ).get_data(as_text=True)
    assert 'name=":pick" value="event timeout" checked' in html
    assert 'name="event" value="order_placed"' in html
    assert re.search(r'name="timeout:duration.amount" value="3"', html)
    assert "<fieldset class=\"node-fields\" >" in html or 'class="node-fields"' in html
    html = _node_form(client, journey_id, {"_node": "m1", "_type": "send",
                                           "_config": json.dumps({"template": "hello"})}).get_data(as_text=True)
    assert '<option value="hello" selected>' in html
    assert "/journeys/template-thumbnail/hello" in html


def test_a_submitted_form_becomes_the_config_with_its_problems(app, login):
    client = login("marketer")
    journey_id = _journey(app)
    answer = _node_form(client, journey_id, {
        "_node": "w1", "_type": "wait", ":pick": "event timeout", ":pick.all": "duration until event timeout",
        "event": "order_placed", "timeout:duration.amount": "", "timeout:duration.unit": "D"})
    result = _result(answer.get_data(as_text=True))
    assert result["config"] == {"event": "order_placed"}
    assert result["meta"]["ports"] == ["event", "timeout"]
    assert "a wait for an event needs a timeout" in answer.get_data(as_text=True)

    unreadable = _node_form(client, journey_id, {"_node": "s", "_type": "ab_split", "variants.0.key": "A",
                                                 "variants.0.weight:number": "lots"})
    result = _result(unreadable.get_data(as_text=True))
    assert result["config"] is None and result["errors"] == {"variants.0.weight": "a number, e.g. 50"}

    missing = _node_form(client, journey_id, {"_node": "m1", "_type": "send", "template": "nope"})
    assert "template &#39;nope&#39; does not exist" in missing.get_data(as_text=True)
    assert _node_form(client, journey_id, {"_node": "x", "_type": "teleport"}).status_code == 422


def test_row_buttons_draw_the_form_again(app, login):
    client = login("marketer")
    journey_id = _journey(app)
    base = {"_node": "s", "_type": "ab_split", "variants.0.key": "A", "variants.0.weight:number": "50",
            "variants.1.key": "B", "variants.1.weight:number": "50"}
    added = _node_form(client, journey_id, {**base, "_action": "add:variants"}).get_data(as_text=True)
    assert 'name="variants.2.key"' in added
    removed = _node_form(client, journey_id, {**base, "_action": "remove:variants.1"}).get_data(as_text=True)
    assert 'name="variants.1.key"' not in removed
    result = _result(removed)
    assert result["config"] == {"variants": [{"key": "A", "weight": 50}]}
    assert result["meta"]["ports"] is None  # one variant is not a split the core accepts


def test_viewers_see_forms_read_only(app, login):
    client = login("viewer")
    journey_id = _journey(app)
    html = _node_form(client, journey_id, {"_node": "w1", "_type": "wait",
                                           "_config": json.dumps({"duration": "PT2H"})}).get_data(as_text=True)
    assert re.search(r'<fieldset class="node-fields"\s+disabled', html)
    assert "Delete this step" not in html


def test_the_settings_form_reads_back_into_settings(app, login):
    client = login("marketer")
    journey_id = _journey(app)
    url = f"/journeys/{journey_id}/settings-form"
    drawn = _post(client, url, data={"_settings": json.dumps({"reentry": "P30D", "quiet_hours": {
        "start": "22:00", "end": "07:00"}})}).get_data(as_text=True)
    assert re.search(r'name="reentry" value="after" checked', drawn)
    assert re.search(r'name="reentry_after:duration.amount" value="30"', drawn)
    fields = {"reentry": "after", "reentry_after:duration.amount": "14", "reentry_after:duration.unit": "D",
              "exit_events:list": "order_placed, unsubscribed", "quiet_hours:optional": ["0", "1"],
              "quiet_hours.start": "21:00", "quiet_hours.end": "08:00", "frequency_cap:optional": "0",
              "frequency_cap.max:int": "2", "holdout_percent:number": "5", "timezone": "Europe/Warsaw"}
    result = _result(_post(client, url, data=fields).get_data(as_text=True))
    assert result["settings"] == {"reentry": "P14D", "exit_events": ["order_placed", "unsubscribed"],
                                  "quiet_hours": {"start": "21:00", "end": "08:00"}, "holdout_percent": 5,
                                  "timezone": "Europe/Warsaw"}
    bad = _post(client, url, data={**fields, "timezone": "Mars/Olympus"}).get_data(as_text=True)
    assert "is not an IANA time zone" in bad


def test_template_thumbnails_are_framed_by_our_pages_only(app, login):
    client = login("viewer")
    _journey(app)
    answer = client.get("/journeys/template-thumbnail/hello")
    assert answer.status_code == 200 and "Hello" in answer.get_data(as_text=True)
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "script-src" not in policy and "default-src 'none'" in policy
    assert client.get("/journeys/template-thumbnail/nope").status_code == 404


# --- publish and versions ----------------------------------------------------------------------

def test_publishing_is_refused_while_there_are_errors(app, login):
    client = login("marketer")
    journey_id = _journey(app, template=False)  # the send's template does not exist
    dialog = client.get(f"/journeys/{journey_id}/publish").get_data(as_text=True)
    assert "Publishing is refused" in dialog and "template &#39;hello&#39; does not exist" in dialog
    answer = _post(client, f"/journeys/{journey_id}/publish", data={"hash": draft_hash(GRAPH), "notes": "go"})
    assert answer.status_code == 422
    with app.app_context():
        assert db.session.query(JourneyVersion).count() == 0


def test_publish_needs_a_note_confirmed_warnings_and_the_reviewed_draft(app, login):
    client = login("marketer")
    graph = {**GRAPH, "settings": {}}  # no exit events: a warning
    journey_id = _journey(app, graph)
    url = f"/journeys/{journey_id}/publish"
    dialog = client.get(url).get_data(as_text=True)
    assert "First version" in dialog and "no exit events" in dialog
    answer = _post(client, url, data={"hash": draft_hash(graph), "notes": ""})
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "Say in a few words" in text and "Tick the box" in text
    stale = _post(client, url, data={"hash": "old", "notes": "go", "confirm_warnings": "1"})
    assert stale.status_code == 409 and "The draft changed" in stale.get_data(as_text=True)
    done = _post(client, url, data={"hash": draft_hash(graph), "notes": "go", "confirm_warnings": "1"})
    assert done.status_code == 200 and "Version 1" in done.get_data(as_text=True)
    assert json.loads(done.headers["HX-Trigger"]) == {"journeys:published": {"version": 1, "status": "active"}}
    with app.app_context():
        version = db.session.query(JourneyVersion).one()
        assert version.notes == "go" and version.published_by_id is not None
        assert db.session.get(Journey, journey_id).status == JourneyStatus.active


def test_history_lists_versions_and_restores_one_as_the_draft(app, login):
    client = login("marketer")
    journey_id = _journey(app, publish=True)
    changed = {**GRAPH, "nodes": [*GRAPH["nodes"][:1], engine_support.wait("w1", "P9D"), *GRAPH["nodes"][2:]]}
    _save(client, journey_id, {"graph": changed, "base": draft_hash(GRAPH)})
    listing = client.get(f"/journeys/{journey_id}/versions").get_data(as_text=True)
    assert "v1" in listing and "Restore as draft" in listing
    shown = client.get(f"/journeys/{journey_id}/versions/1").get_data(as_text=True)
    assert "Version 1, read-only" in shown and '"editable": false' in shown
    assert client.get(f"/journeys/{journey_id}/versions/7").status_code == 404
    answer = _post(client, f"/journeys/{journey_id}/versions/1/restore")
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == f"/journeys/{journey_id}?restored=1"
    assert _draft(app, journey_id) == GRAPH


# --- live counts and the simulator ------------------------------------------------------------

def test_counts_show_who_waits_where(app, login):
    client = login("viewer")
    journey_id = _journey(app, publish=True)
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
    return _post(client, f"/journeys/{journey_id}/simulate", data=data)


def test_the_simulator_runs_the_canvas_for_a_sample_profile(app, login):
    client = login("viewer")
    journey_id = _journey(app)
    html = _simulate(client, journey_id).get_data(as_text=True)
    steps = json.loads(re.search(r"data-steps='([^']*)'", html).group(1).replace("&#34;", '"'))
    assert [(s["node"], s["outcome"]) for s in steps] == [
        ("start", "entered"), ("w1", "waiting"), ("w1", "resumed"), ("m1", "sent"), ("end", "completed")]
    assert steps[3]["offset"] == "+2h" and steps[3]["subject"] == "Hello Ana"
    email = _post(client, f"/journeys/{journey_id}/simulate/email", data={
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
    journey_id = _journey(app, graph)
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
    journey_id = _journey(app)
    answer = _simulate(client, journey_id, **fields)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True).replace("&#39;", "'")


def test_the_contact_picker_suggests_addresses(app, login):
    client = login("viewer")
    journey_id = _journey(app)
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
    journey_id = _journey(app)
    token = page_csrf(client, "/journeys")
    client.post(f"/journeys/{journey_id}/pause", data={"csrf_token": token})
    page = client.get("/journeys").get_data(as_text=True)
    assert "Nothing changed: only an active journey can be paused; this one is draft." in page
