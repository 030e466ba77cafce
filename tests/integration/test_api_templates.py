"""Templates API: create, list, read, PUT/PATCH new versions, previews; every refusal changes nothing."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from app import clock, create_app
from app.db import db
from app.models import AuditEntry, Template, TemplateVersion
from tests.api_support import Key, make_key
from tests.engine_support import SMTPServer, chain, event, journey, post, send, work
from tests.integration.test_api_events import assert_problem

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples" / "simulate"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
BODY = ("<mjml><mj-body><mj-section><mj-column>\n"
        "<mj-text>Hi {{ contact.first_name|default('there') }}, your {{ event.item }} is waiting</mj-text>\n"
        "<mj-text><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></mj-text>\n"
        "</mj-column></mj-section></mj-body></mjml>")


def welcome(**changes: Any) -> dict[str, Any]:
    return {"slug": "welcome", "subject": "Welcome, {{ contact.first_name }}", "preheader": "Glad you came",
            "mjml": BODY, "category": "marketing", **changes}


@pytest.fixture
def key(app) -> Key:  # type: ignore[no-untyped-def]
    return make_key(app, "templates:read,templates:write,contacts:write")


def rows(application: Any) -> tuple[int, int]:
    with application.app_context():
        return (db.session.scalar(select(func.count()).select_from(Template)) or 0,
                db.session.scalar(select(func.count()).select_from(TemplateVersion)) or 0)


def create(client: Any, key: Key, data: dict[str, Any] | None = None) -> Any:
    return client.post("/api/v1/templates", json=data or welcome(), headers=key.headers)


def test_create_answers_201_with_version_1_and_records_who(app, client, key):
    resp = create(client, key)
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert (body["slug"], body["version"], body["name"], body["category"]) == ("welcome", 1, "welcome", "marketing")
    assert body["subject"] == "Welcome, {{ contact.first_name }}" and body["mjml"] == BODY
    assert body["warnings"] == [] and [v["number"] for v in body["versions"]] == [1]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "template.create")).one()
        assert entry.actor.startswith("api:jrny_") and entry.target == "template:welcome"


def test_the_shared_simulator_template_files_are_accepted_as_they_are(app, client, key):
    for path in sorted((EXAMPLES / "templates").glob("*.json")):
        data = {"slug": path.stem, **json.loads(path.read_text())}
        assert create(client, key, data).status_code == 201, path
    assert rows(app) == (3, 3)


def test_a_marketing_template_without_an_unsubscribe_link_is_stored_with_a_warning(app, client, key):
    resp = create(client, key, welcome(mjml="<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text>"
                                            "</mj-column></mj-section></mj-body></mjml>"))
    assert resp.status_code == 201
    assert resp.json["warnings"][0]["pointer"] == "/mjml" and "unsubscribe_url" in resp.json["warnings"][0]["detail"]
    transactional = create(client, key, welcome(slug="receipt", category="transactional", mjml=resp.json["mjml"]))
    assert transactional.json["warnings"] == []


def test_a_taken_slug_is_409_and_changes_nothing(app, client, key):
    create(client, key)
    body = assert_problem(create(client, key, welcome(subject="Other")), 409)
    assert body["errors"] == [{"pointer": "/slug", "detail": body["detail"]}]
    assert rows(app) == (1, 1)


@pytest.mark.parametrize("changes, pointer, line", [
    ({"subject": "Hi {{ contact.first_name"}, "/subject", 1),
    ({"preheader": "{% if %}"}, "/preheader", 1),
    ({"mjml": BODY.replace("{{ event.item }}", "{{ event.item ")}, "/mjml", 2),
    ({"mjml": BODY.replace("</mj-text>\n<mj-text><a", "\n<mj-text><a")}, "/mjml", 2),
    ({"mjml": "Hello, plain text"}, "/mjml", 1),
])
def test_a_template_that_does_not_compile_is_422_with_the_part_and_line(app, client, key, changes, pointer, line):
    body = assert_problem(create(client, key, welcome(**changes)), 422)
    [problem] = body["errors"]
    assert problem["pointer"] == pointer and problem["detail"].startswith(f"line {line}: "), problem
    assert rows(app) == (0, 0)


def test_problems_in_several_parts_are_all_reported(app, client, key):
    body = assert_problem(create(client, key, welcome(subject="{{ x", mjml="{% for %}")), 422)
    assert [p["pointer"] for p in body["errors"]] == ["/subject", "/mjml"]


@pytest.mark.parametrize("data, pointer", [
    ({k: v for k, v in welcome().items() if k != "mjml"}, "/mjml"),
    (welcome(slug="Not A Slug"), "/slug"),
    (welcome(slug="-dash-first"), "/slug"),
    (welcome(slug="x" * 101), "/slug"),
    (welcome(category="newsletter"), "/category"),
    (welcome(subject=""), "/subject"),
    (welcome(subject=5), "/subject"),
    (welcome(mjml="<mjml>\x00</mjml>"), "/mjml"),
    (welcome(colour="red"), "/colour"),
    (welcome(tracking="yes please"), "/tracking"),
])
def test_bad_fields_are_422_with_their_pointer(app, client, key, data, pointer):
    body = assert_problem(create(client, key, data), 422)
    assert pointer in [p["pointer"] for p in body["errors"]]
    assert rows(app) == (0, 0)


def test_not_json_and_the_wrong_content_type_are_refused(app, client, key):
    assert_problem(client.post("/api/v1/templates", data=b"{", headers={**key.headers,
                                                                        "Content-Type": "application/json"}), 400)
    assert_problem(client.post("/api/v1/templates", data=json.dumps(welcome()),
                               headers={**key.headers, "Content-Type": "text/plain"}), 415)
    assert_problem(client.post("/api/v1/templates", json=[welcome()], headers=key.headers), 422)
    assert rows(app) == (0, 0)


def test_list_and_read(app, client, key):
    create(client, key)
    create(client, key, welcome(slug="cart", name="Cart reminder"))
    listing = client.get("/api/v1/templates", headers=key.headers)
    assert listing.status_code == 200
    assert [(t["slug"], t["name"], t["version"]) for t in listing.json["items"]] == [
        ("cart", "Cart reminder", 1), ("welcome", "welcome", 1)]
    one = client.get("/api/v1/templates/cart", headers=key.headers)
    assert one.status_code == 200 and one.json["name"] == "Cart reminder" and one.json["mjml"] == BODY
    assert_problem(client.get("/api/v1/templates/nope", headers=key.headers), 404)


def test_unknown_or_repeated_query_parameters_are_refused_by_name(app, client, key):
    body = assert_problem(client.get("/api/v1/templates?archived=1", headers=key.headers), 422)
    assert body["errors"] == [{"parameter": "archived", "detail": "is not a parameter of this route"}]
    body = assert_problem(client.get("/api/v1/templates?include_archived=maybe", headers=key.headers), 422)
    assert body["errors"][0]["parameter"] == "include_archived"
    body = assert_problem(client.get("/api/v1/templates?include_archived=1&include_archived=0",
                                     headers=key.headers), 422)
    assert body["errors"][0]["detail"] == "may be given once"


def test_put_makes_a_new_version_only_when_the_content_changes(app, client, key):
    create(client, key)
    same = client.put("/api/v1/templates/welcome", json={k: v for k, v in welcome().items() if k != "slug"},
                      headers=key.headers)
    assert same.status_code == 200 and same.json["version"] == 1
    renamed = client.put("/api/v1/templates/welcome", json=welcome(name="Welcome mail"), headers=key.headers)
    assert renamed.json["version"] == 1 and renamed.json["name"] == "Welcome mail"
    changed = client.put("/api/v1/templates/welcome", json=welcome(subject="Hello!"), headers=key.headers)
    assert changed.json["version"] == 2 and changed.json["subject"] == "Hello!"
    assert [v["number"] for v in changed.json["versions"]] == [2, 1]
    assert rows(app) == (1, 2)


def test_put_refuses_another_slug_a_missing_template_and_a_broken_body(app, client, key):
    create(client, key)
    body = assert_problem(client.put("/api/v1/templates/welcome", json=welcome(slug="other"), headers=key.headers),
                          422)
    assert body["errors"][0]["pointer"] == "/slug"
    assert_problem(client.put("/api/v1/templates/other", json=welcome(slug="other"), headers=key.headers), 404)
    broken = client.put("/api/v1/templates/welcome", json=welcome(mjml="<mjml><mj-body>"), headers=key.headers)
    assert assert_problem(broken, 422)["errors"][0]["pointer"] == "/mjml"
    assert_problem(client.put("/api/v1/templates/welcome", json={"subject": "x"}, headers=key.headers), 422)
    assert rows(app) == (1, 1)


def test_patch_changes_only_the_fields_given(app, client, key):
    create(client, key)
    resp = client.patch("/api/v1/templates/welcome", json={"subject": "Hi again"}, headers=key.headers)
    assert resp.status_code == 200 and resp.json["version"] == 2
    assert resp.json["subject"] == "Hi again" and resp.json["preheader"] == "Glad you came" and resp.json["mjml"] == BODY
    moved = client.patch("/api/v1/templates/welcome", json={"category": "transactional"}, headers=key.headers)
    assert moved.json["version"] == 2 and moved.json["category"] == "transactional"
    assert_problem(client.patch("/api/v1/templates/welcome", json={"slug": "x"}, headers=key.headers), 422)
    assert_problem(client.patch("/api/v1/templates/welcome", json={"subject": "{{"}, headers=key.headers), 422)
    assert_problem(client.patch("/api/v1/templates/nope", json={"subject": "x"}, headers=key.headers), 404)
    assert rows(app) == (1, 2)


def test_a_preview_renders_for_the_sample_a_given_contact_or_a_stored_one(app, client, key):
    create(client, key)
    sample = client.post("/api/v1/templates/welcome/preview", headers=key.headers)
    assert sample.status_code == 200, sample.json
    assert sample.json["subject"] == "Welcome, Ana" and sample.json["version"] == 1
    assert "Hi Ana, your is waiting" in sample.json["text"] and "<html" in sample.json["html"]
    assert sample.json["preheader"] == "Glad you came"
    given = client.post("/api/v1/templates/welcome/preview", headers=key.headers, json={
        "contact": {"email": "jo@example.com", "attributes": {"first_name": "Jo"}}, "event": {"item": "hat"}})
    assert given.json["subject"] == "Welcome, Jo" and "your hat is waiting" in given.json["text"]
    contact = client.post("/api/v1/contacts", json={"email": "kai@example.com", "attributes": {"first_name": "Kai"}},
                          headers=key.headers).json
    stored = client.post("/api/v1/templates/welcome/preview", json={"contact_id": contact["id"]}, headers=key.headers)
    assert stored.json["subject"] == "Welcome, Kai"
    assert "/preview-link-unsubscribe" in stored.json["html"]  # not a working unsubscribe link


def test_preview_refusals(app, client, key):
    create(client, key)
    url = "/api/v1/templates/welcome/preview"
    assert_problem(client.post(url, json={"contact_id": 999999}, headers=key.headers), 422)
    both = client.post(url, json={"contact_id": 1, "contact": {"email": "a@example.com"}}, headers=key.headers)
    assert_problem(both, 422)
    assert_problem(client.post(url, json={"contact": {"email": "nope"}}, headers=key.headers), 422)
    assert_problem(client.post(url, json={"version": 2}, headers=key.headers), 404)
    assert_problem(client.post(url, json={"colour": 1}, headers=key.headers), 422)
    assert_problem(client.post("/api/v1/templates/nope/preview", headers=key.headers), 404)


def test_a_template_that_fails_to_render_is_422_with_its_line(app, client, key):
    create(client, key, welcome(mjml=BODY.replace("{{ event.item }}", "{{ 1 // event.zero }}")))
    body = assert_problem(client.post("/api/v1/templates/welcome/preview", json={"event": {"zero": 0}},
                                      headers=key.headers), 422)
    assert body["errors"][0]["pointer"] == "/mjml" and body["errors"][0]["detail"].startswith("line 2:")


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def engine(app, settings, smtp):  # type: ignore[no-untyped-def]
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    yield application
    application.extensions["db_engine"].dispose()


def test_the_preview_is_what_a_send_delivers(engine, smtp, key):
    """Same subject and same text (but the unsubscribe link) as the email the engine sends."""
    client = engine.test_client()
    assert create(client, key).status_code == 201
    with engine.app_context():
        with db.transaction() as s:
            journey(s, chain("signed_up", send("hello", "welcome")), now=T0)
    post(engine, event("signed_up", "klara@example.com", item="scarf"))
    work(engine)
    [mail] = smtp.box.to("klara@example.com")
    contact = client.get("/api/v1/contacts?email=klara@example.com", headers=make_key(engine, "contacts:read").headers)
    contact_id = contact.json["items"][0]["id"]
    preview = client.post("/api/v1/templates/welcome/preview", json={"contact_id": contact_id,
                                                                     "event": {"item": "scarf"}}, headers=key.headers)
    assert preview.json["subject"] == mail["Subject"] == "Welcome, Klara"
    sent_text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert preview.json["text"].split("Unsubscribe")[0] == sent_text.split("Unsubscribe")[0]
    assert "your scarf is waiting" in sent_text
