"""Editing journeys in a real browser: the list and its actions, autosave across a reload,
undo/redo and keyboard deletion, leaving with unsaved changes, a viewer's read-only canvas,
and a 60-node journey."""
from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.db import db
from app.models import Journey, Template
from app.services import journeys as journey_service
from tests.browser.canvas_support import (VIEWPORT, graph, node, open_editor, own_problems, select, settle, shoot,
                                          sign_in, starter_journey, tab)
from tests.conftest import make_user

__all__ = ["tab"]  # the fixture, shared by the canvas tests


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"the page is {width}px wide at {VIEWPORT['width']}px"


def test_list_creates_from_a_starter_duplicates_pauses_resumes_and_archives(app, tab):
    make_user(app, "mia@example.com", "marketer")
    page = tab
    sign_in(page, "mia@example.com")
    expect(page.locator(".empty-state")).to_contain_text("No journeys yet")
    page.check("input[name=starter][value=abandoned-cart]")
    page.click("text=Create journey")
    page.wait_for_selector("#editor[data-ready=true]")
    assert {n["id"] for n in graph(page)["nodes"]} >= {"start", "reminder", "last_chance"}
    expect(page.locator("#pane-check")).to_be_attached()
    with app.app_context():
        slugs = {t.slug for t in db.session.query(Template)}
    assert {"cart-reminder", "cart-last-chance"} <= slugs  # the starter brought its templates
    expect(page.locator("#problem-count")).to_have_text("")  # valid as it comes

    page.click("text=Publish…")
    dialog = page.locator("#publish-dialog")
    dialog.locator("textarea[name=notes]").fill("Launch")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_contain_text("is live")
    page.goto("/journeys")
    row = page.locator("tr", has_text="Abandoned cart")
    expect(row.locator(".status")).to_have_text("active")
    expect(row).to_contain_text("v1")
    expect(row).to_contain_text("mia@example.com")
    no_horizontal_scroll(page)

    row.locator("button:has-text('Duplicate')").click()
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.locator("#journey-name")).to_have_value("Copy of Abandoned cart")
    page.goto("/journeys")
    expect(page.locator("tbody tr")).to_have_count(2)

    row = page.locator("tr", has_text="Abandoned cart").filter(has_not_text="Copy of")
    row.locator("button:has-text('Pause')").click()
    expect(page.locator(".flashes")).to_contain_text("is paused")
    expect(row.locator(".status")).to_have_text("paused")
    shoot(page, "journeys-list.png")
    row.locator("button:has-text('Resume')").click()
    expect(row.locator(".status")).to_have_text("active")
    row.locator("button:has-text('Archive')").click()
    expect(page.locator(".flashes")).to_contain_text("is archived")
    expect(page.locator("tbody tr")).to_have_count(1)  # archived ones are hidden by default
    page.click("text=Show archived journeys")
    expect(page.locator("tr", has_text="archived")).to_have_count(1)
    assert own_problems(page) == []


def test_edits_survive_a_reload_and_undo_redo_delete_work(app, tab):
    make_user(app, "mia@example.com", "marketer")
    journey_id = starter_journey(app)
    page = tab
    sign_in(page, "mia@example.com")
    open_editor(page, journey_id)

    # A config edit through the panel, a rename, and a move with the mouse.
    select(page, "wait_1h")
    page.fill(".node-form input[name='duration:duration.amount']", "3")
    settle(page)
    page.fill("#journey-name", "Cart, three hours")
    box = node(page, "end").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 15)
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 55, steps=6)
    page.mouse.up()
    moved = graph(page)["ui"]["positions"]["end"]
    settle(page)
    expect(page.locator("#save-state")).to_contain_text("Saved")
    page.reload()
    page.wait_for_selector("#editor[data-ready=true]")
    expect(node(page, "wait_1h")).to_contain_text("Wait 3 hours")
    expect(page.locator("#journey-name")).to_have_value("Cart, three hours")
    assert graph(page)["ui"]["positions"]["end"] == moved
    with app.app_context():
        draft = db.session.get(Journey, journey_id).draft
    assert next(n for n in draft["nodes"] if n["id"] == "wait_1h")["config"] == {"duration": "PT3H"}

    # Delete a step with the keyboard, undo brings it back with its edges, redo removes it again.
    edges_before = len(graph(page)["edges"])
    select(page, "last_chance")
    page.locator("#canvas").focus()
    page.keyboard.press("Delete")
    assert "last_chance" not in {n["id"] for n in graph(page)["nodes"]}
    assert len(graph(page)["edges"]) == edges_before - 2
    expect(node(page, "big_cart")).to_have_class(_word("has-error"), timeout=10_000)  # its yes port is open now
    page.keyboard.press("Control+z")
    assert "last_chance" in {n["id"] for n in graph(page)["nodes"]}
    assert len(graph(page)["edges"]) == edges_before
    page.keyboard.press("Control+Shift+z")
    assert "last_chance" not in {n["id"] for n in graph(page)["nodes"]}
    page.click("[data-editor-action=undo]")
    settle(page)
    expect(node(page, "big_cart")).not_to_have_class(_word("has-error"))

    # Tidy up lays everything out top-down without overlaps.
    page.click("[data-editor-action=layout]")
    settle(page)
    boxes = {n: node(page, n).bounding_box() for n in ("start", "wait_1h", "reminder", "wait_order")}
    assert boxes["start"]["y"] < boxes["wait_1h"]["y"] < boxes["reminder"]["y"] < boxes["wait_order"]["y"]
    page.reload()
    page.wait_for_selector("#editor[data-ready=true]")
    assert {n["id"] for n in graph(page)["nodes"]} >= {"last_chance"}
    assert own_problems(page) == []


def test_closing_with_unsaved_changes_asks_first(app, tab):
    make_user(app, "mia@example.com", "marketer")
    journey_id = starter_journey(app)
    page = tab
    sign_in(page, "mia@example.com")
    open_editor(page, journey_id)
    page.evaluate("window.journeyEditor.autosave.save = async () => false")  # as if the server were away
    page.fill("#journey-name", "Not saved yet")
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    page.refuse_dialogs = True  # type: ignore[attr-defined]
    page.evaluate("() => { window.location.href = '/journeys'; }")
    page.wait_for_timeout(500)
    assert page.dialogs == ["beforeunload"]  # type: ignore[attr-defined]
    assert page.url.endswith(f"/journeys/{journey_id}")
    expect(page.locator("#journey-name")).to_have_value("Not saved yet")


def test_a_viewer_sees_the_canvas_read_only(app, tab, live_server):
    make_user(app, "vic@example.com", "viewer")
    journey_id = starter_journey(app)
    page = tab
    sign_in(page, "vic@example.com")
    expect(page.locator("text=New journey")).to_have_count(0)
    open_editor(page, journey_id)
    expect(page.locator(".palette")).to_have_count(0)
    expect(page.locator("[data-editor-action=publish]")).to_have_count(0)
    expect(page.locator("h1.journey-name")).to_have_text("Abandoned cart")
    before = graph(page)["ui"]["positions"]["reminder"]
    box = node(page, "reminder").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 15)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 80, steps=6)
    page.mouse.up()
    assert graph(page)["ui"]["positions"]["reminder"] == before
    assert node(page, "reminder").bounding_box()["x"] == pytest.approx(box["x"], abs=1)
    node(page, "reminder").locator(".jr-card-head").click()
    page.wait_for_selector(".node-form-wrap[data-node=reminder]")
    expect(page.locator(".node-form select[name=template]")).to_be_disabled()
    expect(page.locator("[data-editor-action=delete]")).to_have_count(0)
    page.keyboard.press("Delete")
    assert "reminder" in {n["id"] for n in graph(page)["nodes"]}
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    refused = page.request.post(f"{live_server}/journeys/{journey_id}/draft", headers={"X-CSRFToken": token},
                                data={"graph": {"schema": 1, "nodes": [], "edges": []}})
    assert refused.status == 403
    with app.app_context():
        assert len(db.session.get(Journey, journey_id).draft["nodes"]) == 8
    assert own_problems(page) == []


def sixty_nodes() -> dict[str, Any]:
    """trigger → 58 steps alternating waits and sends in three lanes → exit: 60 nodes."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "trigger", "config": {"event": "signed_up"}}]
    edges = []
    previous = "start"
    for i in range(58):
        kind = "wait" if i % 2 == 0 else "send"
        config = {"duration": f"PT{i + 1}H"} if kind == "wait" else {"template": "big", "category": "marketing"}
        node_id = f"{kind}_{i}"
        nodes.append({"id": node_id, "type": kind, "config": config})
        edges.append({"from": previous, "to": node_id})
        previous = node_id
    nodes.append({"id": "end", "type": "exit"})
    edges.append({"from": previous, "to": "end"})
    positions = {n["id"]: [80 + (i % 3) * 260, 40 + (i // 3) * 120] for i, n in enumerate(nodes)}
    return {"schema": 1, "settings": {"exit_events": ["order_placed"]}, "nodes": nodes, "edges": edges,
            "ui": {"positions": positions}}


def test_a_sixty_node_journey_stays_responsive(app, tab, capsys):
    from tests import engine_support

    make_user(app, "mia@example.com", "marketer")
    with app.app_context():
        with db.transaction() as s:
            engine_support.template(s, "big", "Hello")
            journey_id = journey_service.create_journey(s, name="Sixty", graph=sixty_nodes(), user_id=None,
                                                        now=clock.now()).id
    page = tab
    sign_in(page, "mia@example.com")
    started = time.perf_counter()
    open_editor(page, journey_id)
    loaded = time.perf_counter() - started
    expect(page.locator(".drawflow-node")).to_have_count(60)
    expect(page.locator(".connection")).to_have_count(59)

    started = time.perf_counter()
    select(page, "send_15")
    selected = time.perf_counter() - started
    expect(page.locator(".node-form select[name=template]")).to_have_value("big")

    box = node(page, "wait_16").locator(".jr-card-head").bounding_box()
    started = time.perf_counter()
    page.mouse.move(box["x"] + 10, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 70, box["y"] + 55, steps=20)
    page.mouse.up()
    dragged = time.perf_counter() - started
    moved = graph(page)["ui"]["positions"]["wait_16"]
    assert moved != sixty_nodes()["ui"]["positions"]["wait_16"]
    started = time.perf_counter()
    settle(page)
    saved = time.perf_counter() - started
    with app.app_context():
        assert db.session.get(Journey, journey_id).draft["ui"]["positions"]["wait_16"] == moved
    started = time.perf_counter()
    page.click("[data-editor-action=layout]")
    page.wait_for_function("() => window.journeyEditor.history.canUndo")
    laid_out = time.perf_counter() - started
    settle(page)
    with capsys.disabled():
        print(f"\n60-node journey: load {loaded * 1000:.0f} ms, select {selected * 1000:.0f} ms, "
              f"drag (20 moves) {dragged * 1000:.0f} ms, autosave {saved * 1000:.0f} ms, "
              f"tidy up {laid_out * 1000:.0f} ms")
    assert own_problems(page) == []


def _word(name: str):  # type: ignore[no-untyped-def]
    import re

    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")
