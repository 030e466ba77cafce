"""Every API route with a scope refuses each kind of bad caller, and changes nothing when it does:
no key (401), a revoked key (401), a key that lacks the route's scope (403), a signed-in browser
with no key (401). Generated from the declared operations: a new route is covered the day it exists."""
from __future__ import annotations

import re
from importlib import import_module
from typing import Any

import pytest
from sqlalchemy import func, select

from app.api import ROUTE_MODULES
from app.api.routing import OPERATIONS
from app.db import db
from app.models import Base
from app.services.api_keys import SCOPES
from tests.api_support import Key, make_key, revoke
from tests.integration.test_api_events import assert_problem

for _name in ROUTE_MODULES:  # the routes declare themselves on import (create_app does the same)
    import_module(_name)
SCOPED = sorted((op for op in OPERATIONS.values() if op.scope), key=lambda op: (op.rule, op.method))
SAMPLE = {"contact_id": "1", "journey_id": "1", "slug": "welcome"}


def path_of(rule: str) -> str:
    return "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE[m.group(1)], rule)


def row_counts(application: Any) -> dict[str, int]:
    with application.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables if t.name not in ("api_keys", "audit_log", "user_sessions")}


def call(client: Any, op: Any, headers: dict[str, str] | None = None) -> Any:
    return client.open(path_of(op.rule), method=op.method, json={} if op.body else None, headers=headers or {})


def test_every_scope_a_route_needs_exists():
    assert {op.scope for op in SCOPED} <= set(SCOPES)
    assert {"contacts:read", "contacts:write", "templates:read", "templates:write", "journeys:read",
            "journeys:write", "events:write"} <= {op.scope for op in SCOPED}


@pytest.mark.parametrize("op", SCOPED, ids=lambda op: f"{op.method} {op.rule}")
def test_no_key_revoked_key_wrong_scope_and_a_session_are_refused(app, login, op):
    browser = login("admin")
    before = row_counts(app)
    resp = call(app.test_client(), op)
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="journeys"'

    gone: Key = make_key(app, ",".join(SCOPES), name="gone")
    revoke(app, gone)
    resp = call(browser, op, gone.headers)
    assert "was revoked" in assert_problem(resp, 401)["detail"]

    others = make_key(app, ",".join(s for s in SCOPES if s != op.scope), name="others")
    resp = call(browser, op, others.headers)
    assert f"lacks the {op.scope} scope" in assert_problem(resp, 403)["detail"]
    assert resp.headers["WWW-Authenticate"].endswith(f'scope="{op.scope}"')

    assert_problem(call(browser, op), 401)  # signed in, session cookie and all: still no key
    assert row_counts(app) == before
