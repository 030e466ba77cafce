"""Support for tests of the journey editor's server side: a journey, and requests as the page sends them."""
from __future__ import annotations

import json
import re
from typing import Any

from app import clock
from app.db import db
from app.models import Journey
from app.services import journeys as journey_service
from tests import engine_support
from tests.conftest import page_csrf

GRAPH = engine_support.chain("signed_up", engine_support.wait("w1", "PT2H"), engine_support.send("m1", "hello"),
                             settings={"exit_events": ["order_placed"]})


def make_journey(app, graph: dict[str, Any] | None = None, *, template: bool = True,  # type: ignore[no-untyped-def]
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


def stored_draft(app, journey_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.get(Journey, journey_id).draft


def post(client, url: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    headers = {"X-CSRFToken": page_csrf(client), "HX-Request": "true", **kwargs.pop("headers", {})}
    return client.post(url, headers=headers, **kwargs)


def save(client, journey_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    """As the editor's autosave sends it (fetch, JSON both ways)."""
    return client.post(f"/journeys/{journey_id}/draft", data=json.dumps(body), headers={
        "X-CSRFToken": page_csrf(client), "Content-Type": "application/json", "Accept": "application/json"})


def result_of(html: str) -> dict[str, Any]:
    match = re.search(r"data-result='([^']*)'", html)
    assert match, html
    return json.loads(match.group(1).replace("&#34;", '"').replace("&amp;", "&"))
