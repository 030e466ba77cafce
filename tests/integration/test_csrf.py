"""Every state-changing route refuses a missing or wrong CSRF token.

Generated from the url_map: a new POST route is covered the day it is added.
Only endpoints authenticated by a signature or a token of their own may be
exempt, and they are listed here by name.
"""
from __future__ import annotations

import pytest

from tests.integration.test_route_access import app_routes, concrete

# Webhooks (signed by the shop) and one-click unsubscribe (RFC 8058, token in
# the URL) land here when they exist.
CSRF_EXEMPT: set[str] = set()
# The API authenticates with Bearer keys only, never the session cookie, so a forged
# cross-site request has nothing to ride on (checked in test_api_events.py).
CSRF_EXEMPT |= {"/api/v1/events", "/api/v1/events/batch"}
# The same for the scripting API: Bearer keys only (test_api_auth.py shows a session cookie is not enough).
CSRF_EXEMPT |= {"/api/v1/contacts", "/api/v1/templates", "/api/v1/templates/<slug>",
                "/api/v1/templates/<slug>/preview", "/api/v1/journeys", "/api/v1/journeys/import",
                "/api/v1/journeys/<int:journey_id>", "/api/v1/journeys/<int:journey_id>/validate",
                "/api/v1/journeys/<int:journey_id>/publish", "/api/v1/journeys/<int:journey_id>/pause",
                "/api/v1/journeys/<int:journey_id>/resume", "/api/v1/journeys/<int:journey_id>/archive",
                "/api/v1/journeys/<int:journey_id>/simulate"}
# Shop webhooks are authenticated by the shop's HMAC of the body (test_shop_webhooks.py).
CSRF_EXEMPT |= {"/api/v1/webhooks/shopify/<source>", "/api/v1/webhooks/woocommerce/<source>"}
# The contact's pages are authenticated by the signed token in their URL, never by a session: RFC 8058
# one-click unsubscribe must work with no cookie at all (test_consent_links.py).
CSRF_EXEMPT |= {"/u/<token>", "/preferences/<token>", "/confirm/<token>"}
# Erasure over the API: Bearer keys only, like the rest of the API (test_privacy_api.py).
CSRF_EXEMPT |= {"/api/v1/contacts/<int:contact_id>"}
# Bounce notifications are authenticated by the provider's signature or the install's token (test_bounces.py).
CSRF_EXEMPT |= {"/api/v1/webhooks/bounces/<source>"}


def state_changing_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return sorted((m, r) for m, r in app_routes(app)
                  if m not in ("GET", "HEAD", "OPTIONS") and r not in CSRF_EXEMPT)


def test_there_are_state_changing_routes_to_check(app):
    assert len(state_changing_routes(app)) >= 6


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["missing", "wrong"])
def test_state_changing_routes_refuse_bad_tokens(app, client, login, token):
    login("admin")
    failures = []
    for method, rule in state_changing_routes(app):
        data = {"email": "x@example.com", "password": "whatever12345", "role": "viewer"}
        headers = {}
        if token:
            data["csrf_token"] = token
            headers["X-CSRFToken"] = token
        resp = client.open(concrete(rule), method=method, data=data, headers=headers)
        if resp.status_code != 400 or "security token" not in resp.get_data(as_text=True):
            failures.append(f"{method} {rule}: {resp.status_code}")
    assert not failures, "accepted without a valid CSRF token: " + ", ".join(failures)
    # and nothing changed: the admin is still signed in, no user was created
    assert client.get("/settings/").status_code == 200
    assert "x@example.com" not in client.get("/settings/").get_data(as_text=True)


def test_htmx_requests_send_the_token_in_a_header(app, client, login):
    login("admin")
    page = client.get("/settings/").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
