"""Every route × every role answers as this table says.

The table is explicit on purpose: a new route that is missing here fails the
test, so nobody ships a page without deciding who may see it.
"""
from __future__ import annotations

import pytest

from tests.conftest import page_csrf

ROLES = ("anonymous", "viewer", "marketer", "admin")
LOGIN = "login"  # redirected to the sign-in page

# rule: {role: expected status, or LOGIN}
OPEN = {"anonymous": 200, "viewer": 200, "marketer": 200, "admin": 200}
STAFF_PAGE = {"anonymous": LOGIN, "viewer": 200, "marketer": 200, "admin": 200}
ADMIN_PAGE = {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 200}
# Admin-only POSTs get a form the server rejects (e.g. unknown user 999999): 404 proves access.
ADMIN_ACTION_UNKNOWN_USER = {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 404}
MARKETER_PAGE = {"anonymous": LOGIN, "viewer": 403, "marketer": 200, "admin": 200}
# A page or action on something that does not exist (SAMPLE_ARGS): 404 proves the role got in.
STAFF_UNKNOWN = {"anonymous": LOGIN, "viewer": 404, "marketer": 404, "admin": 404}
MARKETER_UNKNOWN = {"anonymous": LOGIN, "viewer": 403, "marketer": 404, "admin": 404}
# The API takes Bearer keys only: a signed-in browser is as anonymous there as anybody.
API_KEY_ONLY = {role: 401 for role in ROLES}
# Shop webhooks take the shop's HMAC signature only (an unknown source: 401 for everybody).
SHOP_SIGNED_ONLY = {role: 401 for role in ROLES}

TABLE: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "/healthz"): OPEN,
    ("GET", "/readyz"): OPEN,
    ("GET", "/metrics"): OPEN,
    ("GET", "/static/css/app.css"): OPEN,
    ("GET", "/login"): {"anonymous": 200, "viewer": 302, "marketer": 302, "admin": 302},
    ("POST", "/login"): {role: 401 for role in ROLES},  # wrong password for everybody
    ("POST", "/logout"): {role: 302 for role in ROLES},
    ("GET", "/"): {"anonymous": LOGIN, "viewer": 302, "marketer": 302, "admin": 302},
    ("GET", "/journeys"): STAFF_PAGE,
    # The journey builder (app/web/journeys.py, journey_panels, journey_publish, journey_simulator):
    # journey 999999 does not exist, so 404 proves the role got in; writes need a marketer.
    ("POST", "/journeys"): {"anonymous": LOGIN, "viewer": 403, "marketer": 422, "admin": 422},
    ("GET", "/journeys/<int:journey_id>"): STAFF_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/draft"): MARKETER_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/duplicate"): MARKETER_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/pause"): MARKETER_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/resume"): MARKETER_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/archive"): MARKETER_UNKNOWN,
    ("GET", "/journeys/<int:journey_id>/counts"): STAFF_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/node-form"): STAFF_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/settings-form"): STAFF_UNKNOWN,
    ("GET", "/journeys/template-thumbnail/<slug>"): STAFF_UNKNOWN,
    ("GET", "/journeys/<int:journey_id>/publish"): STAFF_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/publish"): MARKETER_UNKNOWN,
    ("GET", "/journeys/<int:journey_id>/versions"): STAFF_UNKNOWN,
    ("GET", "/journeys/<int:journey_id>/versions/<int:number>"): STAFF_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/versions/<int:number>/restore"): MARKETER_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/simulate"): STAFF_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/simulate/email"): STAFF_UNKNOWN,
    ("GET", "/journeys/<int:journey_id>/simulate/contacts"): STAFF_UNKNOWN,
    ("GET", "/templates"): STAFF_PAGE,
    # Templates studio (app/web/templates_studio.py): the sample slug names no template, so 404 proves access.
    ("GET", "/templates/new"): MARKETER_PAGE,
    ("POST", "/templates"): {"anonymous": LOGIN, "viewer": 403, "marketer": 422, "admin": 422},
    ("GET", "/templates/<slug>/edit"): STAFF_UNKNOWN,
    ("POST", "/templates/<slug>/edit"): MARKETER_UNKNOWN,
    ("POST", "/templates/<slug>/preview"): STAFF_UNKNOWN,
    ("POST", "/templates/<slug>/test"): MARKETER_UNKNOWN,
    ("GET", "/templates/<slug>/versions"): STAFF_UNKNOWN,
    ("GET", "/templates/<slug>/versions/<int:number>"): STAFF_UNKNOWN,
    ("POST", "/templates/<slug>/versions/<int:number>/restore"): MARKETER_UNKNOWN,
    ("POST", "/templates/<slug>/archive"): MARKETER_UNKNOWN,
    ("GET", "/templates/preview-contacts"): STAFF_PAGE,
    # The A/B preview of a journey node (app/web/journey_preview.py): journey 999999 does not exist.
    ("GET", "/journeys/<int:journey_id>/preview"): STAFF_UNKNOWN,
    ("POST", "/journeys/<int:journey_id>/preview"): STAFF_UNKNOWN,
    # Settings → Workspace and Email sending (app/web/workspace_settings.py).
    ("GET", "/settings/workspace"): ADMIN_PAGE,
    ("POST", "/settings/workspace"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 422},
    ("GET", "/settings/email"): ADMIN_PAGE,
    ("POST", "/settings/email"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 302},
    ("POST", "/settings/email/test"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 422},
    ("GET", "/contacts"): STAFF_PAGE,
    ("GET", "/analytics"): STAFF_PAGE,
    ("GET", "/settings/"): ADMIN_PAGE,
    ("POST", "/settings/users"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 422},
    ("POST", "/settings/users/<int:user_id>/role"): ADMIN_ACTION_UNKNOWN_USER,
    ("POST", "/settings/users/<int:user_id>/active"): ADMIN_ACTION_UNKNOWN_USER,
    ("POST", "/settings/users/<int:user_id>/sign-out"): ADMIN_ACTION_UNKNOWN_USER,
    ("GET", "/settings/account"): STAFF_PAGE,
    ("POST", "/settings/account/password"): {"anonymous": LOGIN, "viewer": 422, "marketer": 422, "admin": 422},
    ("POST", "/settings/account/sign-out-everywhere"): {"anonymous": LOGIN, "viewer": 302, "marketer": 302, "admin": 302},
    ("GET", "/settings/api-keys/"): ADMIN_PAGE,
    ("POST", "/settings/api-keys/"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 422},
    ("POST", "/settings/api-keys/<int:key_id>/revoke"): ADMIN_ACTION_UNKNOWN_USER,
    ("POST", "/settings/api-keys/<int:key_id>/signing"): ADMIN_ACTION_UNKNOWN_USER,
    ("GET", "/settings/sources/"): ADMIN_PAGE,
    ("POST", "/settings/sources/"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 422},
    ("POST", "/settings/sources/<int:source_id>/secret"): ADMIN_ACTION_UNKNOWN_USER,
    ("POST", "/settings/sources/<int:source_id>/window"): ADMIN_ACTION_UNKNOWN_USER,
    ("POST", "/settings/sources/<int:source_id>/enabled"): ADMIN_ACTION_UNKNOWN_USER,
    ("POST", "/settings/sources/<int:source_id>/delete"): ADMIN_ACTION_UNKNOWN_USER,
    ("GET", "/api-reference"): STAFF_PAGE,
    ("GET", "/api/v1/openapi.json"): OPEN,
    ("POST", "/api/v1/events"): API_KEY_ONLY,
    ("POST", "/api/v1/events/batch"): API_KEY_ONLY,
    ("POST", "/api/v1/contacts"): API_KEY_ONLY,
    ("GET", "/api/v1/contacts"): API_KEY_ONLY,
    ("GET", "/api/v1/contacts/<int:contact_id>"): API_KEY_ONLY,
    ("POST", "/api/v1/templates"): API_KEY_ONLY,
    ("GET", "/api/v1/templates"): API_KEY_ONLY,
    ("GET", "/api/v1/templates/<slug>"): API_KEY_ONLY,
    ("PUT", "/api/v1/templates/<slug>"): API_KEY_ONLY,
    ("PATCH", "/api/v1/templates/<slug>"): API_KEY_ONLY,
    ("POST", "/api/v1/templates/<slug>/preview"): API_KEY_ONLY,
    ("POST", "/api/v1/journeys"): API_KEY_ONLY,
    ("GET", "/api/v1/journeys"): API_KEY_ONLY,
    ("POST", "/api/v1/journeys/import"): API_KEY_ONLY,
    ("GET", "/api/v1/journeys/<int:journey_id>"): API_KEY_ONLY,
    ("PUT", "/api/v1/journeys/<int:journey_id>"): API_KEY_ONLY,
    ("POST", "/api/v1/journeys/<int:journey_id>/validate"): API_KEY_ONLY,
    ("POST", "/api/v1/journeys/<int:journey_id>/publish"): API_KEY_ONLY,
    ("POST", "/api/v1/journeys/<int:journey_id>/pause"): API_KEY_ONLY,
    ("POST", "/api/v1/journeys/<int:journey_id>/resume"): API_KEY_ONLY,
    ("POST", "/api/v1/journeys/<int:journey_id>/archive"): API_KEY_ONLY,
    ("GET", "/api/v1/journeys/<int:journey_id>/stats"): API_KEY_ONLY,
    ("POST", "/api/v1/journeys/<int:journey_id>/simulate"): API_KEY_ONLY,
    ("GET", "/api/v1/journeys/<int:journey_id>/export"): API_KEY_ONLY,
    ("POST", "/api/v1/webhooks/shopify/<source>"): SHOP_SIGNED_ONLY,
    ("POST", "/api/v1/webhooks/woocommerce/<source>"): SHOP_SIGNED_ONLY,
    # Consent and deliverability (issue 7). Contact 999999 does not exist: 404 proves access.
    ("GET", "/contacts/<int:contact_id>"): STAFF_UNKNOWN,
    ("POST", "/contacts/<int:contact_id>/consent"): MARKETER_UNKNOWN,
    ("GET", "/contacts/<int:contact_id>/export"): ADMIN_ACTION_UNKNOWN_USER,
    ("POST", "/contacts/<int:contact_id>/erase"): ADMIN_ACTION_UNKNOWN_USER,
    ("DELETE", "/api/v1/contacts/<int:contact_id>"): API_KEY_ONLY,
    ("GET", "/api/v1/contacts/<int:contact_id>/export"): API_KEY_ONLY,
    ("GET", "/settings/audit/"): ADMIN_PAGE,
    ("GET", "/settings/deliverability/"): ADMIN_PAGE,
    ("POST", "/settings/deliverability/consent"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 422},
    ("POST", "/settings/deliverability/dkim"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 422},
    ("POST", "/settings/deliverability/dkim/<int:key_id>/active"): ADMIN_ACTION_UNKNOWN_USER,
    ("POST", "/settings/deliverability/alerts/<int:alert_id>/clear"): ADMIN_ACTION_UNKNOWN_USER,
    ("GET", "/settings/suppressions/"): ADMIN_PAGE,
    # The sample form names nobody@example.com: an admin suppresses it (and is sent back to the list).
    ("POST", "/settings/suppressions/"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 302},
    ("POST", "/settings/suppressions/<int:suppression_id>/release"): ADMIN_ACTION_UNKNOWN_USER,
    # The contact's own pages: no sign-in, a signed token instead ("not-a-token" is refused for everybody).
    ("GET", "/u/<token>"): {role: 404 for role in ROLES},
    ("POST", "/u/<token>"): {role: 404 for role in ROLES},
    ("GET", "/preferences/<token>"): {role: 404 for role in ROLES},
    ("POST", "/preferences/<token>"): {role: 404 for role in ROLES},
    ("GET", "/confirm/<token>"): {role: 404 for role in ROLES},
    ("POST", "/confirm/<token>"): {role: 404 for role in ROLES},
    # Mail providers' bounce notifications: an unknown provider is 404 for everybody.
    ("POST", "/api/v1/webhooks/bounces/<source>"): {role: 404 for role in ROLES},
    # Tracking (issue 8): public GETs whose signed token is the only key ("not-a-token": 404 for everybody).
    ("GET", "/t/c/<token>"): {role: 404 for role in ROLES},
    ("GET", "/t/o/<token>.gif"): {role: 404 for role in ROLES},
    # Analytics: the dashboard and its CSVs (the sample names no table: 404 proves access), a journey's
    # report, the attribution settings (admins; the sample form lacks the fields: 422).
    ("GET", "/analytics/<name>.csv"): STAFF_UNKNOWN,
    ("POST", "/analytics/settings"): {"anonymous": LOGIN, "viewer": 403, "marketer": 403, "admin": 422},
    ("GET", "/journeys/<int:journey_id>/report"): STAFF_UNKNOWN,
    ("GET", "/api/v1/journeys/<int:journey_id>/analytics"): API_KEY_ONLY,
    # Sent mail (development only, app/web/sent_mail.py): marketers and admins; "no-such-table" is no message.
    ("GET", "/sent-mail"): MARKETER_PAGE,
    ("GET", "/sent-mail/<name>"): MARKETER_UNKNOWN,
}

SAMPLE_ARGS = {"user_id": "999999", "key_id": "999999", "filename": "css/app.css", "source": "no-such-source",
               "contact_id": "999999", "journey_id": "999999", "slug": "no-such-template",
               "source_id": "999999", "number": "1", "suppression_id": "999999", "alert_id": "999999",
               "token": "not-a-token", "name": "no-such-table"}


def app_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    routes = set()
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.add((method, rule.rule))
    return routes


def concrete(path: str) -> str:
    if path == "/static/<path:filename>":
        return "/static/css/app.css"
    for name, value in SAMPLE_ARGS.items():
        path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
    return path


def test_every_route_is_in_the_table(app):
    routes = {(m, "/static/css/app.css" if r == "/static/<path:filename>" else r)
              for m, r in app_routes(app)}
    missing = routes - set(TABLE)
    assert not missing, f"routes with no access rule in this table: {sorted(missing)}"
    stale = set(TABLE) - routes
    assert not stale, f"table rows for routes that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_as_the_table_says(app, client, login, role):
    if role != "anonymous":
        login(role)
    failures = []
    for (method, rule), expected_by_role in sorted(TABLE.items()):
        if rule in ("/logout", "/settings/account/sign-out-everywhere"):
            continue  # they end the session: checked last, below
        expected = expected_by_role[role]
        status, location = _call(client, method, concrete(rule), role)
        ok = (status == 302 and "/login" in location) if expected == LOGIN else status == expected
        if not ok:
            failures.append(f"{method} {rule} as {role}: got {status} {location}, want {expected}")
    for rule in ("/settings/account/sign-out-everywhere", "/logout"):
        expected = TABLE[("POST", rule)][role]
        status, location = _call(client, "POST", rule, role)
        ok = (status == 302 and "/login" in location) if expected == LOGIN else status == expected
        if not ok:
            failures.append(f"POST {rule} as {role}: got {status} {location}, want {expected}")
    assert not failures, "\n".join(failures)


def _call(client, method: str, path: str, role: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    if method == "GET":
        resp = client.get(path)
    else:
        token = page_csrf(client)
        resp = client.open(path, method=method, data={"csrf_token": token, "email": "nobody@example.com",
                                                       "password": "short", "role": "admin"},
                           environ_base={"REMOTE_ADDR": f"10.9.{ROLES.index(role)}.1"})
    resp.close()  # static files are streamed from an open file
    return resp.status_code, resp.headers.get("Location", "")
