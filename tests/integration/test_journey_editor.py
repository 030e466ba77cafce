"""The journey editor's server side: autosave, the page, node and settings forms, thumbnails,
against the real database (no browser). Publishing and the rest: test_journey_publishing.py."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app import clock
from app.db import db
from app.models import AuditEntry, Journey
from app.services import journeys as journey_service
from app.web.canvas_meta import draft_hash
from tests.conftest import page_csrf
from tests.editor_support import GRAPH, make_journey, post, result_of, save, stored_draft



# --- autosave ---------------------------------------------------------------------------------

def test_a_save_stores_the_graph_and_answers_with_its_problems(app, login):
    client = login("marketer")
    journey_id = make_journey(app)
    graph = json.loads(json.dumps(GRAPH))
    graph["edges"] = [e for e in graph["edges"] if e["from"] != "m1"]  # the send's next step is gone
    answer = save(client, journey_id, {"graph": graph, "base": draft_hash(GRAPH), "name": "Welcome 2"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    data = answer.get_json()
    assert stored_draft(app, journey_id) == graph
    assert data["hash"] == draft_hash(graph) and data["name"] == "Welcome 2"
    assert [(p["node"], p["code"]) for p in data["report"]["errors"]] == [("m1", "port.missing"),
                                                                           ("end", "node.unreachable")]
    assert data["meta"]["w1"] == {"label": "Wait", "summary": "Wait 2 hours", "ports": [None]}
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="journey.update").one()
        assert entry.actor == "marketer@example.com"


def test_a_save_over_someone_elses_edit_is_refused_until_forced(app, login):
    client = login("marketer")
    journey_id = make_journey(app)
    mine = {**GRAPH, "settings": {"exit_events": ["x"]}}
    theirs = {**GRAPH, "settings": {"exit_events": ["y"]}}
    assert save(client, journey_id, {"graph": theirs, "base": draft_hash(GRAPH)}).status_code == 200
    refused = save(client, journey_id, {"graph": mine, "base": draft_hash(GRAPH)})
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "draft_changed"
    assert "changed elsewhere (marketer@example.com" in refused.get_json()["detail"]
    assert stored_draft(app, journey_id)["settings"] == {"exit_events": ["y"]}
    forced = save(client, journey_id, {"graph": mine, "base": draft_hash(GRAPH), "force": True})
    assert forced.status_code == 200
    assert stored_draft(app, journey_id)["settings"] == {"exit_events": ["x"]}


@pytest.mark.parametrize("body, where", [
    ({"base": "x"}, "/graph"),
    ({"graph": {"schema": 2, "nodes": [], "edges": []}}, "/graph/schema"),
    ({"graph": {"schema": 1, "nodes": {}, "edges": []}}, "/graph/nodes"),
    ({"graph": GRAPH, "name": "   "}, "/name"),
])
def test_a_bad_save_changes_nothing_and_says_why(app, login, body, where):
    client = login("marketer")
    journey_id = make_journey(app)
    answer = save(client, journey_id, {"base": draft_hash(GRAPH), **body})
    assert answer.status_code == 422
    assert where in [e.get("pointer") for e in answer.get_json()["errors"]]
    assert stored_draft(app, journey_id) == GRAPH


def test_viewers_cannot_save_and_archived_journeys_cannot_be_edited(app, client, login):
    journey_id = make_journey(app)
    viewer = login("viewer")
    assert save(viewer, journey_id, {"graph": GRAPH, "base": draft_hash(GRAPH)}).status_code == 403
    viewer.post("/logout", data={"csrf_token": page_csrf(viewer)})
    marketer = login("marketer")
    with app.app_context():
        with db.transaction() as s:
            journey_service.archive_journey(s, s.get(Journey, journey_id), user=None, now=clock.now())
    answer = save(marketer, journey_id, {"graph": {**GRAPH, "nodes": []}, "base": draft_hash(GRAPH)})
    assert answer.status_code == 409 and "archived" in answer.get_json()["detail"]
    assert stored_draft(app, journey_id) == GRAPH


def test_the_editor_page_carries_the_graph_and_marks_viewers_read_only(app, login):
    journey_id = make_journey(app)
    client = login("viewer")
    page = client.get(f"/journeys/{journey_id}").get_data(as_text=True)
    boot = json.loads(re.search(r'id="editor-boot">(.*?)</script>', page, re.S).group(1))
    assert boot["graph"] == GRAPH and boot["editable"] is False
    assert boot["meta"]["m1"]["summary"] == "hello"
    assert "palette-item" not in page and "is-readonly" in page
    assert client.get("/journeys/999999").status_code == 404


# --- node and settings forms --------------------------------------------------------------------

def _node_form(client, journey_id: int, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return post(client, f"/journeys/{journey_id}/node-form", data=data)


def test_opening_a_node_draws_its_form_from_the_config(app, login):
    client = login("marketer")
    journey_id = make_journey(app)
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
    journey_id = make_journey(app)
    answer = _node_form(client, journey_id, {
        "_node": "w1", "_type": "wait", ":pick": "event timeout", ":pick.all": "duration until event timeout",
        "event": "order_placed", "timeout:duration.amount": "", "timeout:duration.unit": "D"})
    result = result_of(answer.get_data(as_text=True))
    assert result["config"] == {"event": "order_placed"}
    assert result["meta"]["ports"] == ["event", "timeout"]
    assert "a wait for an event needs a timeout" in answer.get_data(as_text=True)

    unreadable = _node_form(client, journey_id, {"_node": "s", "_type": "ab_split", "variants.0.key": "A",
                                                 "variants.0.weight:number": "lots"})
    result = result_of(unreadable.get_data(as_text=True))
    assert result["config"] is None and result["errors"] == {"variants.0.weight": "a number, e.g. 50"}

    missing = _node_form(client, journey_id, {"_node": "m1", "_type": "send", "template": "nope"})
    assert "template &#39;nope&#39; does not exist" in missing.get_data(as_text=True)
    assert _node_form(client, journey_id, {"_node": "x", "_type": "teleport"}).status_code == 422


def test_row_buttons_draw_the_form_again(app, login):
    client = login("marketer")
    journey_id = make_journey(app)
    base = {"_node": "s", "_type": "ab_split", "variants.0.key": "A", "variants.0.weight:number": "50",
            "variants.1.key": "B", "variants.1.weight:number": "50"}
    added = _node_form(client, journey_id, {**base, "_action": "add:variants"}).get_data(as_text=True)
    assert 'name="variants.2.key"' in added
    removed = _node_form(client, journey_id, {**base, "_action": "remove:variants.1"}).get_data(as_text=True)
    assert 'name="variants.1.key"' not in removed
    result = result_of(removed)
    assert result["config"] == {"variants": [{"key": "A", "weight": 50}]}
    assert result["meta"]["ports"] is None  # one variant is not a split the core accepts


def test_viewers_see_forms_read_only(app, login):
    client = login("viewer")
    journey_id = make_journey(app)
    html = _node_form(client, journey_id, {"_node": "w1", "_type": "wait",
                                           "_config": json.dumps({"duration": "PT2H"})}).get_data(as_text=True)
    assert re.search(r'<fieldset class="node-fields"\s+disabled', html)
    assert "Delete this step" not in html


def test_the_settings_form_reads_back_into_settings(app, login):
    client = login("marketer")
    journey_id = make_journey(app)
    url = f"/journeys/{journey_id}/settings-form"
    drawn = post(client, url, data={"_settings": json.dumps({"reentry": "P30D", "quiet_hours": {
        "start": "22:00", "end": "07:00"}})}).get_data(as_text=True)
    assert re.search(r'name="reentry" value="after" checked', drawn)
    assert re.search(r'name="reentry_after:duration.amount" value="30"', drawn)
    fields = {"reentry": "after", "reentry_after:duration.amount": "14", "reentry_after:duration.unit": "D",
              "exit_events:list": "order_placed, unsubscribed", "quiet_hours:optional": ["0", "1"],
              "quiet_hours.start": "21:00", "quiet_hours.end": "08:00", "frequency_cap:optional": "0",
              "frequency_cap.max:int": "2", "holdout_percent:number": "5", "timezone": "Europe/Warsaw"}
    result = result_of(post(client, url, data=fields).get_data(as_text=True))
    assert result["settings"] == {"reentry": "P14D", "exit_events": ["order_placed", "unsubscribed"],
                                  "quiet_hours": {"start": "21:00", "end": "08:00"}, "holdout_percent": 5,
                                  "timezone": "Europe/Warsaw"}
    bad = post(client, url, data={**fields, "timezone": "Mars/Olympus"}).get_data(as_text=True)
    assert "is not an IANA time zone" in bad


def test_template_thumbnails_are_framed_by_our_pages_only(app, login):
    client = login("viewer")
    make_journey(app)
    answer = client.get("/journeys/template-thumbnail/hello")
    assert answer.status_code == 200 and "Hello" in answer.get_data(as_text=True)
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "script-src" not in policy and "default-src 'none'" in policy
    assert client.get("/journeys/template-thumbnail/nope").status_code == 404


def test_an_archived_journey_opens_read_only(app, login):
    journey_id = make_journey(app)
    with app.app_context():
        with db.transaction() as s:
            journey_service.archive_journey(s, s.get(Journey, journey_id), user=None, now=clock.now())
    page = login("marketer").get(f"/journeys/{journey_id}").get_data(as_text=True)
    assert '"editable": false' in page and "Archived, read-only" in page and "palette-item" not in page
