"""Schemathesis against /api/v1/openapi.json: generated requests for every operation (a bounded number
each), sent with a key that has every scope. No answer may be a 5xx, and every answer must be what
the document says: a documented status, its content type, a body that fits its schema, its headers.

Some of each operation's objects exist (a template `welcome`, a journey, a contact), so generated
requests reach the code behind the 404s too.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from app import clock, create_app
from app.api.openapi import document
from app.config import load_settings
from app.db import db
from app.services import events, journeys, templates
from app.services.api_keys import SCOPES
from tests.api_support import Key, make_key
from tests.conftest import environ_for
from tests.engine_support import MJML_BODY, chain, send, wait
from tests.factories import T0

#: Generated requests per operation: enough to find the usual mistakes, few enough to keep the
#: whole run near half a minute on a busy machine.
EXAMPLES = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def _document() -> dict[str, Any]:
    """The document the app serves. It depends on the declared routes alone, and an app built
    here declares them all (pytest 9 cannot hand schemathesis a schema from a fixture); the app
    is only built, never served, so it touches no database or Redis."""
    with tempfile.TemporaryDirectory(prefix="schemathesis-") as name:
        folder = Path(name)
        built = create_app(load_settings(environ_for(folder, f"sqlite:///{folder / 'unused.db'}",
                                                     "redis://127.0.0.1:1/0")))
        built.extensions["db_engine"].dispose()
    return document("http://127.0.0.1:5000")


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture
def every_scope(app: Any) -> Key:
    clock.set_source(lambda: T0)
    key = make_key(app, ",".join(SCOPES), name="schemathesis")
    with app.app_context():
        with db.transaction() as s:
            templates.create_template(s, templates.parse({"slug": "welcome", "subject": "Hi {{ contact.first_name }}",
                                                          "mjml": MJML_BODY.format(body="")}), user_id=None, now=T0)
            journey = journeys.create_journey(s, name="Welcome", graph=chain("signed_up", send("hello", "welcome"),
                                                                             wait("pause", "P1D")),
                                              user_id=None, now=T0)
            journeys.publish_journey(s, journey, user=None, now=T0)
            events.upsert_contact(s, {"email": "ana@example.com", "attributes": {"first_name": "Ana"}}, T0)
    return key


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          database=None)
def test_every_answer_is_what_the_document_says(case: Any, app: Any, every_scope: Key) -> None:
    case.call_and_validate(app=app, headers=every_scope.headers, checks=CHECKS)


def test_the_document_tested_is_the_one_served(client: Any) -> None:
    assert client.get("/api/v1/openapi.json").json == _document()
