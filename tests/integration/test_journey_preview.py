"""The A/B preview of a journey node: every variant's email side by side, for the sample or a
real contact, with the variant the live engine gives that contact; bad input refused."""
from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import select

from app import clock
from app.db import db
from app.models import Enrollment
from app.services import journeys as journey_service
from app.services import versions
from tests.conftest import page_csrf
from tests.engine_support import event, post, work
from tests.factories import contact
from tests.studio_support import frames, make_template

GRAPH: dict[str, Any] = {
    "schema": 1, "settings": {},
    "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "cart_abandoned"}},
        {"id": "ab", "type": "ab_split", "config": {"variants": [{"key": "A", "weight": 50},
                                                                 {"key": "B", "weight": 50, "label": "discount"}]}},
        {"id": "mA", "type": "send", "config": {"template": "cart-plain"}},
        {"id": "w", "type": "wait", "config": {"duration": "PT1H"}},
        {"id": "mB", "type": "send", "config": {"template": "cart-discount"}},
        {"id": "end", "type": "exit"},
    ],
    "edges": [{"from": "start", "to": "ab"}, {"from": "ab", "to": "mA", "port": "A"},
              {"from": "ab", "to": "w", "port": "B"}, {"from": "w", "to": "mB"},
              {"from": "mA", "to": "end"}, {"from": "mB", "to": "end"}],
}


def _setup(app: Any, graph: dict[str, Any] = GRAPH, publish: bool = False) -> int:
    make_template(app, "cart-plain", "Your {{ event['items'][0].title }} is waiting",
                  "<mj-text>Plain reminder for {{ contact.first_name }}</mj-text>")
    make_template(app, "cart-discount", "10% off your {{ event['items'][0].title }}",
                  "<mj-text>Discount for {{ contact.first_name }}: {{ event.discount_code }}</mj-text>")
    with app.app_context():
        with db.transaction() as s:
            journey = journey_service.create_journey(s, name="Cart A/B", graph=graph, user_id=None, now=clock.now())
            if publish:
                versions.publish(s, journey, graph, now=clock.now())
            return journey.id


def _text(resp) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(resp.get_data(as_text=True))


def test_both_variants_are_shown_side_by_side_for_the_sample(app, login):
    journey_id = _setup(app)
    resp = login("viewer").get(f"/journeys/{journey_id}/preview?node=ab")
    page = _text(resp)
    assert resp.status_code == 200
    assert "Variant A" in page and "Variant B" in page and "discount" in page
    assert "Your Merino Wool Beanie is waiting" in page and "10% off your Merino Wool Beanie" in page
    plain, discount = frames(resp.get_data(as_text=True))
    assert "Plain reminder for Ana" in plain and "Discount for Ana: WELCOME10" in discount
    assert "the sample event" in page
    assert "style-src 'self' 'unsafe-inline' https:" in resp.headers["Content-Security-Policy"]


def test_a_real_contact_sees_their_own_cart_and_the_variant_the_engine_gives_them(app, login):
    journey_id = _setup(app, publish=True)
    post(app, event("cart_abandoned", "ola@example.pl", items=[{"title": "Rain Jacket"}], discount_code="OLA5"))
    work(app)
    with app.app_context():  # the variant the live engine chose (A sends now, B waits an hour first)
        enrollment = db.session.scalars(select(Enrollment)).one()
        ola, chosen = enrollment.contact_id, enrollment.state["variants"]["ab"]
    viewer = login("viewer")
    resp = viewer.post(f"/journeys/{journey_id}/preview", data={"node": "ab", "contact": str(ola)},
                       headers={"X-CSRFToken": page_csrf(viewer), "HX-Request": "true"})
    page = _text(resp)
    assert resp.status_code == 200
    assert "Your Rain Jacket is waiting" in page and "10% off your Rain Jacket" in page
    assert "Plain reminder for Ola" in page and "Discount for Ola: OLA5" in page
    assert "their latest cart_abandoned event" in page
    assert f"in variant <strong>{chosen}</strong>" in resp.get_data(as_text=True)
    assert f'class="variant is-assigned" data-variant="{chosen}"' in resp.get_data(as_text=True)


def test_a_send_node_previews_itself_and_an_edited_sample_is_used(app, login):
    journey_id = _setup(app)
    viewer = login("viewer")
    sample = '{"contact": {"email": "p@example.com", "attributes": {"first_name": "Piotr"}}, "event": {"items": [{"title": "Boots"}], "discount_code": "P10"}}'
    resp = viewer.post(f"/journeys/{journey_id}/preview", data={"node": "mB", "sample": sample},
                       headers={"X-CSRFToken": page_csrf(viewer), "HX-Request": "true"})
    page = _text(resp)
    assert resp.status_code == 200 and "Send mB" in page and "Variant" not in page
    [email] = frames(resp.get_data(as_text=True))
    assert "10% off your Boots" in page and "Discount for Piotr: P10" in email


def test_a_contact_without_the_trigger_event_gets_the_sample_cart(app, login):
    journey_id = _setup(app)
    with app.app_context():
        with db.transaction() as s:
            who = contact(s, "nina@example.com", attributes={"first_name": "Nina"}).id
    resp = login("viewer").get(f"/journeys/{journey_id}/preview?node=ab&contact={who}")
    page = _text(resp)
    assert "Plain reminder for Nina" in page and "Merino Wool Beanie" in page
    assert "they have no cart_abandoned event" in page


def test_an_unfinished_draft_says_what_it_cannot_show(app, login):
    graph = {**GRAPH, "nodes": [*GRAPH["nodes"][:2], {"id": "mA", "type": "send", "config": {"template": "gone"}},
                                {"id": "mC", "type": "send", "config": {}}],
             "edges": [{"from": "start", "to": "ab"}, {"from": "ab", "to": "mA", "port": "A"}]}
    journey_id = _setup(app, graph)
    viewer = login("viewer")
    page = _text(viewer.get(f"/journeys/{journey_id}/preview?node=ab"))
    assert "No template has the slug 'gone'" in page
    assert "This path sends no email" in page  # B is not connected yet
    page = _text(viewer.get(f"/journeys/{journey_id}/preview?node=mC"))
    assert "This send has no template chosen yet." in page


@pytest.mark.parametrize("data, status, message", [
    ({"node": "nope"}, 422, "has no node 'nope'"),
    ({"node": "w"}, 422, "is a wait node"),
    ({"node": "ab", "sample": "{"}, 422, "not JSON"),
    ({"node": "ab", "contact": "999999"}, 422, "does not exist"),
])
def test_bad_input_is_refused_with_a_reason(app, login, data, status, message):
    journey_id = _setup(app)
    viewer = login("viewer")
    resp = viewer.post(f"/journeys/{journey_id}/preview", data=data,
                       headers={"X-CSRFToken": page_csrf(viewer), "HX-Request": "true"})
    assert resp.status_code == status and message in _text(resp)


def test_unknown_journeys_and_nodes_on_the_page(app, login):
    journey_id = _setup(app)
    viewer = login("viewer")
    assert viewer.get("/journeys/999999/preview").status_code == 404
    resp = viewer.get(f"/journeys/{journey_id}/preview?node=gone")
    assert resp.status_code == 404 and "has no node 'gone'" in _text(resp)
    # No node named: the first A/B split.
    assert "Variant A" in _text(viewer.get(f"/journeys/{journey_id}/preview"))


def test_ids_past_32_bits_name_nothing(app, login):
    # PostgreSQL refuses to compare an integer column with them: they must not reach a query.
    journey_id = _setup(app)
    viewer = login("viewer")
    huge = str(2**63 - 1)
    assert viewer.get(f"/journeys/{huge}/preview").status_code == 404
    resp = viewer.post(f"/journeys/{journey_id}/preview", data={"node": "ab", "contact": huge},
                       headers={"X-CSRFToken": page_csrf(viewer), "HX-Request": "true"})
    assert resp.status_code == 422 and "does not exist" in _text(resp)
    make_template(app, "huge")
    assert viewer.get(f"/templates/huge/versions/{huge}").status_code == 404
    assert viewer.get(f"/templates/huge/edit?contact={huge}").status_code == 200
