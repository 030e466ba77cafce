"""Helpers for driving the journey canvas with a real mouse in tests."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Page

from app import clock
from app.db import db
from app.starters import journey_starters

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def tab(browser, live_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    """A 1280×800 tab that records console errors and answers confirmations "yes" (unless
    page.refuse_dialogs)."""
    context = browser.new_context(base_url=live_server, viewport=VIEWPORT)
    page = context.new_page()
    page.console_problems = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and page.console_problems.append(msg.text))
    page.on("pageerror", lambda exc: page.console_problems.append(str(exc)))
    page.dialogs = []  # type: ignore[attr-defined]
    page.refuse_dialogs = False  # type: ignore[attr-defined]

    def answer(dialog):  # type: ignore[no-untyped-def]
        page.dialogs.append(dialog.type)  # type: ignore[attr-defined]
        dialog.dismiss() if page.refuse_dialogs else dialog.accept()  # type: ignore[attr-defined]

    page.on("dialog", answer)  # confirmations are answered "yes" unless a test says otherwise
    yield page
    context.close()


def own_problems(page: Page) -> list[str]:
    """Console errors of our pages: forms refused on purpose (422) and the web fonts a rendered
    email links (there is no internet here) are not problems of the page."""
    noise = ("status of 422", "net::ERR_", "fonts.googleapis.com")
    return [p for p in page.console_problems if not any(n in p for n in noise)]  # type: ignore[attr-defined]


def starter_journey(app, key: str = "abandoned-cart") -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        with db.transaction() as s:
            return journey_starters.create_from_starter(s, key, name=None, user_id=None, now=clock.now()).id


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/journeys")


def open_editor(page: Page, journey_id: int) -> None:
    page.goto(f"/journeys/{journey_id}")
    page.wait_for_selector("#editor[data-ready=true]")


def centre(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_from_palette(page: Page, kind: str, x: float, y: float) -> str:
    """Drag a palette item to (x, y) of the canvas; returns the new node's id."""
    before = set(node_ids(page))
    start = page.locator(f".palette-item[data-type={kind}]").bounding_box()
    canvas = page.locator("#canvas").bounding_box()
    page.mouse.move(start["x"] + 30, start["y"] + 12)
    page.mouse.down()
    page.mouse.move(canvas["x"] + x, canvas["y"] + y, steps=10)
    page.mouse.up()
    page.wait_for_function("n => window.journeyEditor.model.graph.nodes.length > n", arg=len(before))
    (added,) = set(node_ids(page)) - before
    return added


def node(page: Page, node_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f".drawflow-node[data-node='{node_id}']")


def connect(page: Page, source: str, target: str, port: str | None = None) -> None:
    """Press on the source's out-port, move to the target's in-port, release."""
    selector = ".output" + (f"[data-port='{port}']" if port else "")
    out = node(page, source).locator(selector).bounding_box()
    into = node(page, target).locator(".input").bounding_box()
    page.mouse.move(*centre(out))
    page.mouse.down()
    page.mouse.move(*centre(into), steps=10)
    page.mouse.up()


def node_ids(page: Page) -> list[str]:
    return page.evaluate("window.journeyEditor.model.graph.nodes.map(n => n.id)")  # type: ignore[no-any-return]


def graph(page: Page) -> dict[str, Any]:
    return page.evaluate("window.journeyEditor.model.graph")  # type: ignore[no-any-return]


def select(page: Page, node_id: str) -> None:
    """Click a node's card and wait for its settings form."""
    node(page, node_id).locator(".jr-card-head").click()
    page.wait_for_selector(f".node-form-wrap[data-node='{node_id}']")


def settle(page: Page) -> None:
    """Wait until every edit is answered by the server and saved."""
    try:
        page.wait_for_function("() => window.journeyEditor.idle()", timeout=15_000)
    except Exception:
        state = page.evaluate("""() => { const e = window.journeyEditor; return {touched: e.panel.touched,
            answered: e.panel.answered, request: !!document.querySelector('.htmx-request'), dirty: e.autosave.dirty,
            running: !!e.autosave.running, timer: e.autosave.timer, saved: document.querySelector('#save-state').textContent}; }""")
        raise AssertionError(f"the editor did not settle: {state}") from None


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))
