"""A journey driven by the test through the engine, real emails, clicks, opens, a bounce, a
complaint, an unsubscribe and orders: the canvas, the report page and the API show the same
numbers, and those are the database's."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, select

from app.db import db
from app.models import Engagement, Enrollment, Message, TrackingHit
from app.services import bounces
from app.services.bounce_formats import Notice
from app.models import BounceKind
from tests.analytics_support import (APPLE_PROXY, T0, at, click, engine_app, later, open_pixel, pixel, post,  # noqa: F401
                                     setup, smtp, tracked, work)
from tests.api_support import make_key
from tests.conftest import make_user, sign_in
from tests.engine_support import event

OFFER = '<mj-text><a href="https://shop.example/offer">Get it</a></mj-text>'
GRAPH = {"schema": 1, "settings": {"exit_events": [], "holdout_percent": 30}, "nodes": [
    {"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
    {"id": "ab", "type": "ab_split", "config": {"variants": [{"key": "A", "weight": 50}, {"key": "B", "weight": 50}]}},
    {"id": "ma", "type": "send", "config": {"template": "offer-a"}},
    {"id": "mb", "type": "send", "config": {"template": "offer-b"}},
    {"id": "end", "type": "exit"}],
    "edges": [{"from": "start", "to": "ab"}, {"from": "ab", "to": "ma", "port": "A"},
              {"from": "ab", "to": "mb", "port": "B"}, {"from": "ma", "to": "end"}, {"from": "mb", "to": "end"}]}
PEOPLE = [f"p{i:02d}@example.com" for i in range(24)]


def _drive(application: Any, smtp: Any) -> dict[str, Any]:
    journey_id = setup(application, GRAPH, {"offer-a": OFFER, "offer-b": OFFER})
    for email in PEOPLE:
        post(application, event("signed_up", email))
    work(application)
    later(10)
    mailed = [e for e in PEOPLE if smtp.box.to(e)]
    clickers = mailed[::3]
    for email in clickers:
        [mail] = smtp.box.to(email)
        click(application, tracked(mail)[0])
        click(application, tracked(mail)[0])  # twice: one unique click, two in the totals
    for email in mailed[::4]:
        open_pixel(application, pixel(smtp.box.to(email)[0]))
    for email in mailed[1::5]:
        open_pixel(application, pixel(smtp.box.to(email)[0]), agent=APPLE_PROXY)
    bounced, complainer, leaver = mailed[1], mailed[2], mailed[4]
    with application.app_context():
        with db.transaction() as s:
            bounces.apply(s, [Notice(bounced, BounceKind.hard, "dsn", "550 5.1.1 no such user"),
                              Notice(complainer, BounceKind.complaint, "dsn")], T0 + timedelta(minutes=20))
    unsubscribe = smtp.box.to(leaver)[0]["List-Unsubscribe"].strip("<>")
    assert application.test_client().post("/" + unsubscribe.split("/", 3)[3],
                                          data={"List-Unsubscribe": "One-Click"}).status_code == 200
    at(T0 + timedelta(days=1))
    totals = {}
    for n, email in enumerate(clickers):
        totals[email] = Decimal("19.90") + n
        post(application, event("order_placed", email, total=str(totals[email])))
    work(application)
    return {"journey_id": journey_id, "mailed": mailed, "clickers": clickers, "totals": totals}


def _database(application: Any, journey_id: int) -> dict[str, dict[str, int]]:
    """The figures counted straight from the tables, per send node."""
    out: dict[str, dict[str, int]] = {}
    with application.app_context():
        s = db.session
        mine = (select(Message.id, Message.node).join(Enrollment, Enrollment.id == Message.enrollment_id)
                .where(Enrollment.journey_id == journey_id).subquery())
        for node, n in s.execute(select(mine.c.node, func.count()).join(Message, Message.id == mine.c.id)
                                 .where(Message.sent_at.is_not(None)).group_by(mine.c.node)):
            out.setdefault(node, {})["sent"] = n
        for node, kind, n in s.execute(select(mine.c.node, Engagement.kind, func.count(distinct(Engagement.message_id)))
                                       .join(Engagement, Engagement.message_id == mine.c.id)
                                       .where(Engagement.human_at.is_not(None)).group_by(mine.c.node, Engagement.kind)):
            out[node]["opened" if kind == "open" else "clicked"] = n
        for node, kind, n in s.execute(select(mine.c.node, TrackingHit.kind, func.count())
                                       .join(TrackingHit, TrackingHit.message_id == mine.c.id)
                                       .group_by(mine.c.node, TrackingHit.kind)):
            out[node]["opens_total" if kind == "open" else "clicks_total"] = n
    return out


def _page_cells(html: str, node: str) -> dict[str, str]:
    row = re.search(rf'<tr data-node="{node}" data-variant="all"[^>]*>(.*?)</tr>', html, re.DOTALL)
    assert row, f"no row for {node}"
    return {name: value.strip() for name, value in re.findall(r'data-stat="(\w+)">([^<]*)', row.group(1))}


def test_canvas_report_page_and_api_agree_with_each_other_and_the_database(engine_app, smtp):
    driven = _drive(engine_app, smtp)
    journey_id = driven["journey_id"]
    make_user(engine_app, "viewer@example.com", "viewer")
    browser = engine_app.test_client()
    assert sign_in(browser, "viewer@example.com").status_code == 302
    canvas = browser.get(f"/journeys/{journey_id}/counts").get_json()
    page = browser.get(f"/journeys/{journey_id}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = make_key(engine_app, "journeys:read")
    api = engine_app.test_client().get(f"/api/v1/journeys/{journey_id}/analytics", headers=key.headers)
    assert api.status_code == 200, api.get_data(as_text=True)
    data = api.get_json()
    database = _database(engine_app, journey_id)

    assert set(database) == {"ma", "mb"}
    total_revenue = Decimal(0)
    for node, counted in database.items():
        send = data["nodes"][node]["send"]
        for name, value in counted.items():
            assert send[name] == value, (node, name)
        on_canvas = canvas["nodes"][node]
        assert (on_canvas["opened"], on_canvas["clicked"], on_canvas["conversions"], on_canvas["revenue"]) == \
            (send["opened"], send["clicked"], send["conversions"], send["revenue"])
        assert on_canvas["open_rate"] == send["rates"]["open"] and on_canvas["click_rate"] == send["rates"]["click"]
        assert on_canvas["passed"] == data["nodes"][node]["passed"] and on_canvas["waiting"] == data["nodes"][node]["waiting"]
        cells = _page_cells(html, node)
        for name in ("sent", "delivered", "opened", "clicked", "clicks_total", "unsubscribed", "complained",
                     "conversions", "bounced"):
            assert cells[name].split()[0] == str(send[name]), (node, name)
        assert cells["revenue"] == f"{Decimal(send['revenue']):,.2f} EUR"
        total_revenue += Decimal(send["revenue"])
        variants = data["nodes"][node]["variants"]
        assert sum(v["sent"] for v in variants.values()) == send["sent"]

    emails = data["emails"]
    assert emails["clicked"] == len(driven["clickers"]) and emails["clicks_total"] == 2 * len(driven["clickers"])
    assert emails["conversions"] == len(driven["clickers"])
    assert total_revenue == sum(driven["totals"].values()) and Decimal(emails["revenue"]) == total_revenue
    assert (emails["hard_bounced"], emails["complained"], emails["unsubscribed"]) == (1, 1, 1)
    assert emails["delivered"] == emails["sent"] - 1
    assert emails["opens_machine"] == len(driven["mailed"][1::5])
    assert emails["opened_any"] - emails["opened"] == len(set(driven["mailed"][1::5]) - set(driven["mailed"][::4]))
    assert data["entered"] == len(PEOPLE) and canvas["nodes"]["start"]["reached"] == len(PEOPLE)
    assert f'<span class="kpi-value">{data["entered"]}</span>' in html

    [split] = data["ab"]
    assert split["status"] == "collecting" and "Not enough data yet" in html
    assert sum(v["recipients"] for v in split["variants"]) == len(driven["mailed"])
    assert canvas["nodes"]["ab"]["ab"]["status"] == "collecting"

    lift = data["lift"]
    with engine_app.app_context():
        held = db.session.scalar(select(func.count()).select_from(Enrollment).where(
            Enrollment.journey_id == journey_id, Enrollment.holdout.is_(True)))
    assert held and lift["holdout"]["contacts"] == held and lift["mailed"]["contacts"] == len(PEOPLE) - held
    assert lift["mailed"]["converted"] == len(driven["clickers"]) and lift["holdout"]["converted"] == 0
    assert Decimal(lift["mailed"]["revenue"]) == total_revenue
    assert lift["reading"] in html.replace("&#39;", "'")
    assert len(data["timeline"]["days"]) == len(data["timeline"]["series"]["sent"])
    assert sum(data["timeline"]["series"]["sent"]) == emails["sent"]
