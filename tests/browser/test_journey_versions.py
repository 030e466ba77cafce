"""Publishing from the canvas in a real browser: the impact against the live version (steps
changed, waiting contacts that stay or move), the journey settings panel, the version history
with a read-only view and a restore."""
from __future__ import annotations

from playwright.sync_api import expect

from app.db import db
from app.models import Enrollment, JourneyVersion
from tests import engine_support
from tests.api_support import make_key
from tests.browser.canvas_support import (graph, node, open_editor, own_problems, select, settle, sign_in,
                                          starter_journey, tab)
from tests.conftest import make_user

__all__ = ["tab"]


def test_publish_shows_the_impact_and_history_restores_a_version(app, tab, live_server):
    make_user(app, "mia@example.com", "marketer")
    journey_id = starter_journey(app)
    page = tab
    sign_in(page, "mia@example.com")
    open_editor(page, journey_id)
    page.click("text=Publish…")
    dialog = page.locator("#publish-dialog")
    dialog.locator("textarea[name=notes]").fill("Launch")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_contain_text("Version 1")
    dialog.locator("button:has-text('Done')").click()

    key = make_key(app, "events:write")
    for n in (1, 2):
        answer = page.request.post(f"{live_server}/api/v1/events", headers=key.headers, data={
            "event": "cart_abandoned", "contact": {"email": f"c{n}@shop.example", "consent": {"marketing": "subscribed"}},
            "properties": {"total": 120}})
        assert answer.status == 202
    engine_support.work(app)
    expect(node(page, "wait_1h").locator(".jr-card-stats")).to_contain_text("2 waiting", timeout=15_000)

    # The journey settings panel: quiet hours off, a holdout group.
    page.click("[data-tab=settings]")
    page.wait_for_selector(".settings-form")
    page.uncheck(".settings-form input[type=checkbox][name='quiet_hours:optional']")
    page.fill(".settings-form input[name='holdout_percent:number']", "10")
    settle(page)
    assert graph(page)["settings"]["holdout_percent"] == 10
    assert "quiet_hours" not in graph(page)["settings"]
    select(page, "wait_1h")
    page.fill(".node-form input[name='duration:duration.amount']", "2")
    settle(page)

    page.click("text=Publish…")
    expect(dialog).to_contain_text("Changes against the live version 1")
    expect(dialog.locator(".diff-changed", has_text="wait_1h")).to_have_text("~ wait_1h changed")
    expect(dialog.locator(".diff-changed", has_text="settings")).to_have_text("~ journey settings changed")
    row = dialog.locator(".impact-table tr", has_text="wait_1h")
    expect(row).to_contain_text("2")
    expect(row).to_contain_text("can move")
    dialog.locator("input[name=migrate][value='1']").check()
    dialog.locator("textarea[name=notes]").fill("Two hours, holdout 10%")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_contain_text("Version 2")
    dialog.locator("button:has-text('Done')").click()
    expect(page.locator("#live-version")).to_have_text("v2 live")
    with app.app_context():
        v2 = db.session.query(JourneyVersion).filter_by(journey_id=journey_id, number=2).one()
        assert {e.version_id for e in db.session.query(Enrollment)} == {v2.id}

    page.click("[data-tab=history]")
    history = page.locator("#pane-history")
    expect(history.locator(".version")).to_have_count(2)
    expect(history).to_contain_text("Two hours, holdout 10%")
    expect(history).to_contain_text("mia@example.com")
    history.locator(".version", has_text="v1").locator("a:has-text('View')").click()
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.locator(".viewing-version")).to_contain_text("Version 1, read-only")
    expect(node(page, "wait_1h")).to_contain_text("Wait 1 hour")
    expect(page.locator(".palette")).to_have_count(0)
    page.click("text=back to the draft")
    page.wait_for_selector("#editor[data-ready=true]")
    page.click("[data-tab=history]")
    history.locator(".version", has_text="v1").locator("button:has-text('Restore as draft')").click()
    page.wait_for_url(f"**/journeys/{journey_id}?restored=1")
    page.wait_for_selector("#editor[data-ready=true]")
    expect(node(page, "wait_1h")).to_contain_text("Wait 1 hour")
    assert graph(page)["settings"].get("quiet_hours")
    assert own_problems(page) == []
