"""Journeys that act on engagement: a condition on engagement.clicked after a real click through
the tracking endpoint, a wait for email_clicked, a trigger on email_opened; machine clicks do not count."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import db
from app.models import Enrollment, EnrollmentStep
from tests.analytics_support import (SCANNER, T0, click, engine_app, later, open_pixel, pixel, post, setup,  # noqa: F401
                                     smtp, tracked, work)
from tests.engine_support import event, run_until_quiet

LINK = '<mj-text><a href="https://shop.example/new">New in</a></mj-text>'


def _branching(rule_field: str) -> dict:  # type: ignore[type-arg]
    return {"schema": 1, "settings": {"exit_events": []}, "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
        {"id": "m1", "type": "send", "config": {"template": "news"}},
        {"id": "pause", "type": "wait", "config": {"duration": "PT1H"}},
        {"id": "clicked", "type": "condition", "config": {"rule": {"field": rule_field, "op": "eq", "value": True}}},
        {"id": "thanks", "type": "send", "config": {"template": "thanks"}},
        {"id": "nudge", "type": "send", "config": {"template": "nudge"}},
        {"id": "end", "type": "exit"}],
        "edges": [{"from": "start", "to": "m1"}, {"from": "m1", "to": "pause"}, {"from": "pause", "to": "clicked"},
                  {"from": "clicked", "to": "thanks", "port": "yes"}, {"from": "clicked", "to": "nudge", "port": "no"},
                  {"from": "thanks", "to": "end"}, {"from": "nudge", "to": "end"}]}


def _subjects(smtp, email):  # type: ignore[no-untyped-def]
    return [m["Subject"] for m in smtp.box.to(email)]


def _templates() -> dict[str, str]:
    return {"news": LINK, "thanks": "<mj-text>Thanks</mj-text>", "nudge": "<mj-text>Still there?</mj-text>"}


def test_a_condition_on_engagement_clicked_follows_a_real_click(engine_app, smtp):
    setup(engine_app, _branching("engagement.clicked.m1"), _templates())
    for email in ("clicker@example.com", "reader@example.com", "idle@example.com"):
        post(engine_app, event("signed_up", email))
    work(engine_app)
    later(10)
    [news] = smtp.box.to("clicker@example.com")
    answer = click(engine_app, tracked(news)[0])
    assert answer.status_code == 302 and answer.headers["Location"] == "https://shop.example/new"
    [opened_only] = smtp.box.to("reader@example.com")
    assert open_pixel(engine_app, pixel(opened_only)).status_code == 200  # an open is not a click
    work(engine_app)  # the email_clicked event goes through the pipeline like any other
    run_until_quiet(engine_app, T0 + timedelta(hours=1, minutes=1))
    subjects = {email: [m.get_body(("html",)).get_content().count("Thanks") for m in smtp.box.to(email)]
                for email in ("clicker@example.com", "reader@example.com", "idle@example.com")}
    assert [len(v) for v in subjects.values()] == [2, 2, 2]
    with engine_app.app_context():
        paths = {}
        for enrollment in db.session.scalars(select(Enrollment)):
            steps = db.session.scalars(select(EnrollmentStep).where(EnrollmentStep.enrollment_id == enrollment.id)
                                       .order_by(EnrollmentStep.id)).all()
            paths[enrollment.contact_id] = [(s.node, (s.detail or {}).get("port")) for s in steps if s.node == "clicked"]
    assert sorted(paths.values()) == [[("clicked", "no")], [("clicked", "no")], [("clicked", "yes")]]
    assert subjects["clicker@example.com"][1] == 1 and subjects["reader@example.com"][1] == 0


def test_a_scanners_click_does_not_take_the_clicked_branch(engine_app, smtp):
    setup(engine_app, _branching("engagement.clicked"), _templates())
    post(engine_app, event("signed_up", "guarded@example.com"))
    work(engine_app)
    later(10)
    [news] = smtp.box.to("guarded@example.com")
    assert click(engine_app, tracked(news)[0], agent=SCANNER).status_code == 302  # still redirected
    work(engine_app)
    run_until_quiet(engine_app, T0 + timedelta(hours=2))
    assert "Still there?" in smtp.box.to("guarded@example.com")[1].get_body(("html",)).get_content()


def test_opened_on_the_condition_uses_the_open_pixel(engine_app, smtp):
    setup(engine_app, _branching("engagement.opened"), _templates())
    post(engine_app, event("signed_up", "eye@example.com"))
    work(engine_app)
    later(10)
    [news] = smtp.box.to("eye@example.com")
    open_pixel(engine_app, pixel(news))
    run_until_quiet(engine_app, T0 + timedelta(hours=2))
    assert "Thanks" in smtp.box.to("eye@example.com")[1].get_body(("html",)).get_content()


def test_a_wait_for_email_clicked_moves_on_the_click(engine_app, smtp):
    graph = {"schema": 1, "settings": {"exit_events": []}, "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
        {"id": "m1", "type": "send", "config": {"template": "news"}},
        {"id": "w", "type": "wait", "config": {"event": "email_clicked", "timeout": "P3D"}},
        {"id": "thanks", "type": "send", "config": {"template": "thanks"}},
        {"id": "end", "type": "exit"}],
        "edges": [{"from": "start", "to": "m1"}, {"from": "m1", "to": "w"},
                  {"from": "w", "to": "thanks", "port": "event"}, {"from": "w", "to": "end", "port": "timeout"},
                  {"from": "thanks", "to": "end"}]}
    setup(engine_app, graph, _templates())
    post(engine_app, event("signed_up", "quick@example.com"))
    work(engine_app)
    later(3)
    [news] = smtp.box.to("quick@example.com")
    click(engine_app, tracked(news)[0])
    click(engine_app, tracked(news)[0])  # a second click fires nothing more
    work(engine_app)
    assert len(smtp.box.to("quick@example.com")) == 2


def test_email_opened_can_trigger_a_journey(engine_app, smtp):
    opened = {"schema": 1, "settings": {"exit_events": [], "reentry": "always"}, "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "email_opened",
                                                      "filter": {"field": "event.template", "op": "eq", "value": "news"}}},
        {"id": "thanks", "type": "send", "config": {"template": "thanks"}}, {"id": "end", "type": "exit"}],
        "edges": [{"from": "start", "to": "thanks"}, {"from": "thanks", "to": "end"}]}
    setup(engine_app, {"schema": 1, "settings": {"exit_events": []}, "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
        {"id": "m1", "type": "send", "config": {"template": "news"}}, {"id": "end", "type": "exit"}],
        "edges": [{"from": "start", "to": "m1"}, {"from": "m1", "to": "end"}]}, _templates())
    from tests.engine_support import journey

    with engine_app.app_context():
        with db.transaction() as s:
            journey(s, opened, name="Thank openers", now=T0)
    post(engine_app, event("signed_up", "open@example.com"))
    work(engine_app)
    later(3)
    [news] = smtp.box.to("open@example.com")
    for _ in range(3):
        open_pixel(engine_app, pixel(news))
    work(engine_app)
    assert [m["Subject"] for m in smtp.box.to("open@example.com")] == ["Hello", "Hello"]
    assert "Thanks" in smtp.box.to("open@example.com")[1].get_body(("html",)).get_content()
