"""The OpenAPI 3.1 document: generated from the validating models, describing every API route,
matched by what the routes really answer; and its rendered reference page."""
from __future__ import annotations

import re
from typing import Any

from app.api.openapi import REF
from app.api.routing import OPERATIONS, Problem
from app.services.event_input import EventIn
from tests.api_support import body, event, make_key, revoke, signed_headers
from tests.integration.test_route_access import app_routes


def document(client: Any) -> dict[str, Any]:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.json


def test_the_document_is_openapi_3_1_and_public(app, client, settings):
    doc = document(client)
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": f"{settings.base_url}/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}


def test_every_api_route_is_documented_and_nothing_else(app, client):
    doc = document(client)
    routes = {(m, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.removeprefix("/api/v1")))
              for m, r in app_routes(app) if r.startswith("/api/")}
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert routes == documented
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op["summary"] and op["operationId"] and op["responses"], (method, path)


def test_request_schemas_are_the_models_that_validate(app, client):
    doc = document(client)
    generated = EventIn.model_json_schema(ref_template=REF)
    defs = generated.pop("$defs")
    schemas = doc["components"]["schemas"]
    assert schemas["EventIn"] == generated and schemas["ContactIn"] == defs["ContactIn"]
    post = doc["paths"]["/events"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": REF.format(model="EventIn")}
    assert post["security"] == [{"bearerAuth": ["events:write"]}]
    batch = schemas["BatchIn"]["properties"]["events"]
    assert batch["maxItems"] == 1000 and batch["items"]["properties"]["event"] == generated["properties"]["event"]
    assert [p["name"] for p in post["parameters"]] == ["Idempotency-Key"]


def test_what_the_routes_answer_is_what_the_document_says(app, client):
    """Each answer's status is documented for its operation, and its body fits the documented model."""
    doc = document(client)
    key, signed, reader = make_key(app), make_key(app, signed=True), make_key(app, "contacts:read")
    gone = make_key(app)
    revoke(app, gone)
    raw = body(event())
    calls = [
        ("POST", "/events", dict(json=event(), headers=key.headers)),
        ("POST", "/events", dict(json=event(idempotency_key="x"), headers=key.headers)),
        ("POST", "/events", dict(json=event(idempotency_key="x"), headers=key.headers)),
        ("POST", "/events", dict(json={"event": 1}, headers=key.headers)),
        ("POST", "/events", dict(data=b"{", headers={**key.headers, "Content-Type": "application/json"})),
        ("POST", "/events", dict(data=raw, headers={**key.headers, "Content-Type": "text/plain"})),
        ("POST", "/events", dict(json=event())),
        ("POST", "/events", dict(json=event(), headers=gone.headers)),
        ("POST", "/events", dict(json=event(), headers=reader.headers)),
        ("POST", "/events", dict(data=raw, headers=signed_headers(signed, raw))),
        ("POST", "/events", dict(data=raw, headers={**signed.headers, "Content-Type": "application/json"})),
        ("POST", "/events/batch", dict(json={"events": [event(), {"event": "x"}]}, headers=key.headers)),
        ("POST", "/events/batch", dict(json={"events": [{"event": "x"}]}, headers=key.headers)),
        ("POST", "/events/batch", dict(json={"events": []}, headers=key.headers)),
        ("GET", "/openapi.json", {}),
    ]
    for method, path, kwargs in calls:
        resp = client.open(f"/api/v1{path}", method=method, **kwargs)
        op = doc["paths"][path][method.lower()]
        assert str(resp.status_code) in op["responses"], (method, path, resp.status_code)
        declared = OPERATIONS[f"api.{op['operationId']}"]
        if resp.status_code < 400:
            assert resp.mimetype == "application/json"
            if declared.result is not None:
                declared.result.model_validate(resp.json)
        else:
            assert resp.mimetype == "application/problem+json"
            Problem.model_validate(resp.json)


def test_the_reference_page_renders_every_operation_and_schema(app, login):
    browser = login("viewer")
    page = browser.get("/api-reference")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for op in OPERATIONS.values():
        assert op.summary.replace(",", "&#44;") in html or op.summary in html, op.summary
        assert f'id="{op.endpoint.split(".", 1)[1]}"' in html
    for name in ("EventIn", "ContactIn", "BatchIn", "Problem"):
        assert f'id="schema-{name}"' in html
    assert "idempotency_key" in html and "events:write" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from another host
