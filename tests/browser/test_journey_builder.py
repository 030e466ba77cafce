"""The journey builder in a real browser: a marketer draws a journey from an empty canvas with
the mouse, sets it up, publishes it, and watches a contact arrive; the simulator shows the path."""
from __future__ import annotations

from playwright.sync_api import expect

from app.db import db
from app.models import Enrollment
from tests import engine_support
from tests.api_support import make_key
from tests.browser.canvas_support import (connect, drag_from_palette, graph, node, own_problems, select, settle,
                                          shoot, sign_in, tab)
from tests.conftest import make_user

__all__ = ["tab"]  # the fixture, shared by the canvas tests


def _templates(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        with db.transaction() as s:
            engine_support.template(s, "welcome-a", "Welcome, {{ contact.first_name|default('friend') }}")
            engine_support.template(s, "welcome-b", "Hello from the shop")


def test_marketer_draws_publishes_and_sees_a_contact_arrive(app, tab, live_server):
    make_user(app, "mia@example.com", "marketer")
    _templates(app)
    page = tab
    sign_in(page, "mia@example.com")
    page.fill("#new-journey input[name=name]", "Signup flow")
    page.click("text=Create journey")
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.locator("#empty-hint")).to_be_visible()
    assert graph(page)["nodes"] == []

    trigger = drag_from_palette(page, "trigger", 390, 50)
    wait = drag_from_palette(page, "wait", 390, 165)
    condition = drag_from_palette(page, "condition", 390, 280)
    split = drag_from_palette(page, "ab_split", 250, 400)
    end = drag_from_palette(page, "exit", 600, 400)
    send_a = drag_from_palette(page, "send", 130, 530)
    send_b = drag_from_palette(page, "send", 380, 530)
    assert [trigger, wait, condition, split, end, send_a, send_b] == [
        "start", "wait_1", "condition_1", "ab_split_1", "exit_1", "send_1", "send_2"]
    expect(page.locator("#empty-hint")).to_be_hidden()

    connect(page, trigger, wait)
    connect(page, wait, condition)
    connect(page, condition, split, "yes")
    connect(page, split, send_a, "A")
    connect(page, split, send_b, "B")
    connect(page, send_a, end)
    connect(page, send_b, end)

    select(page, trigger)
    page.fill(".node-form input[name=event]", "browser_signup")
    settle(page)
    expect(node(page, trigger)).to_contain_text("When browser_signup")

    select(page, wait)
    page.fill(".node-form input[name='duration:duration.amount']", "2")
    page.select_option(".node-form select[name='duration:duration.unit']", "D")
    settle(page)
    expect(node(page, wait)).to_contain_text("Wait 2 days")

    select(page, condition)
    page.click(".node-form button:has-text('+ Condition')")
    page.wait_for_selector(".node-form input[name='rule:rule.rows.0.field']")
    page.fill(".node-form input[name='rule:rule.rows.0.field']", "contact.country")
    page.select_option(".node-form select[name='rule:rule.rows.0.op']", "eq")
    page.fill(".node-form input[name='rule:rule.rows.0.value']", "PL")
    settle(page)
    expect(node(page, condition)).to_contain_text('If contact.country is "PL"')

    for send, slug in ((send_a, "welcome-a"), (send_b, "welcome-b")):
        select(page, send)
        page.select_option(".node-form select[name=template]", slug)
        settle(page)
        expect(node(page, send)).to_contain_text(slug)
        expect(page.locator(".template-thumb iframe")).to_have_count(1)

    # One edge is missing: the condition's "no" port. The canvas says so on the node, in red.
    expect(node(page, condition)).to_have_class(_contains("has-error"))
    expect(node(page, condition).locator(".jr-card-problems")).to_contain_text("port 'no'")
    page.click("[data-tab=check]")
    expect(page.locator("#pane-check")).to_contain_text("1 error(s)")

    connect(page, condition, end, "no")
    settle(page)
    expect(node(page, condition)).not_to_have_class(_contains("has-error"))
    expect(node(page, condition).locator(".jr-card-problems")).to_be_hidden()
    expect(page.locator("#pane-check")).to_contain_text("No errors")
    shoot(page, "journey-editor.png")

    page.click("text=Publish…")
    dialog = page.locator("#publish-dialog")
    expect(dialog).to_contain_text("First version")
    expect(dialog).to_contain_text("no exit events")  # a warning, shown for confirmation
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_contain_text("Say in a few words what changes")
    expect(dialog).to_contain_text("Tick the box to publish")
    dialog.locator("textarea[name=notes]").fill("First version: welcome A/B test for Poland")
    dialog.locator("input[name=confirm_warnings]").check()
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_contain_text("Version 1 of “Signup flow” is live")
    dialog.locator("button:has-text('Done')").click()
    expect(page.locator("#journey-status")).to_have_text("active")

    key = make_key(app, "events:write")
    answer = page.request.post(f"{live_server}/api/v1/events", headers={**key.headers},
                               data={"event": "browser_signup", "idempotency_key": "signup-1",
                                     "contact": {"email": "ola@shop.example", "attributes": {"country": "PL"},
                                                 "consent": {"marketing": "subscribed"}}})
    assert answer.status == 202, answer.text()
    engine_support.work(app)
    with app.app_context():
        assert db.session.query(Enrollment).filter_by(node="wait_1", status="waiting").count() == 1
    expect(node(page, wait).locator(".jr-card-stats")).to_contain_text("1 waiting", timeout=15_000)
    expect(node(page, trigger).locator(".jr-card-stats")).to_contain_text("1 passed")

    # The simulator runs the canvas for a sample profile from Poland: yes, then one variant.
    page.click("[data-tab=test]")
    expect(page.locator("#simulator-form input[name=event_0]")).to_have_value("browser_signup")
    page.click("#simulator-form button:has-text('Run')")
    expect(page.locator("#sim-result .sim-final")).to_contain_text("Completed at exit_1")
    on_path = set(page.eval_on_selector_all(".drawflow-node.on-path", "els => els.map(e => e.dataset.node)"))
    assert {trigger, wait, condition, split, end} <= on_path
    assert len(on_path & {send_a, send_b}) == 1, on_path
    sent = (on_path & {send_a, send_b}).pop()
    expect(node(page, sent).locator(".jr-card-sim")).to_contain_text("+2d")
    expect(page.locator("#sim-result .sim-step.outcome-sent")).to_have_count(1)
    subject = "Welcome, Ana" if sent == send_a else "Hello from the shop"
    expect(page.locator("#sim-result .sim-subject")).to_contain_text(subject)
    assert page.locator(".connection.on-path").count() >= 5
    page.locator("#sim-result .sim-subject").click()
    frame = page.frame_locator("#email-dialog iframe")
    expect(frame.locator("body")).to_contain_text(subject)
    page.keyboard.press("Escape")
    shoot(page, "journey-simulator.png")
    assert own_problems(page) == []  # type: ignore[attr-defined]


def _contains(name: str):  # type: ignore[no-untyped-def]
    import re

    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")
