"""The templates studio over HTTP: starters, the live preview and its problems, saving versions,
restoring, archiving, test sends to a real SMTP server; every bad input refused with nothing changed."""
from __future__ import annotations

import html
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from app import create_app
from app.db import db
from app.models import AuditEntry, Template, TemplateVersion
from app.services import templates as template_service
from app.starters import SLUGS, template_starters
from tests.conftest import make_user, page_csrf, sign_in
from tests.engine_support import MJML_BODY, SMTPServer
from tests.factories import contact
from tests.studio_support import form, frames, make_template, problems_in

GOOD = MJML_BODY.format(body="<mj-text>Your {{ event['items'][0].title }} is waiting</mj-text>")
BROKEN = "<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n<mj-text>hi</mj-text>\n</mj-column>\n</mj-body>\n</mjml>"


def _versions(app: Any, slug: str) -> list[TemplateVersion]:
    with app.app_context():
        template = db.session.scalar(select(Template).where(Template.slug == slug))
        return list(db.session.scalars(select(TemplateVersion).where(TemplateVersion.template_id == template.id)
                                       .order_by(TemplateVersion.number)))


def _post(client, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, data=data, headers={"X-CSRFToken": page_csrf(client), "HX-Request": "true"})


def test_every_starter_compiles_renders_and_lets_people_unsubscribe(app):
    starters = template_starters()
    assert list(starters) == list(SLUGS) == ["welcome", "cart-reminder", "post-purchase", "win-back"]
    for slug, data in starters.items():
        assert template_service.check_source(data.subject, data.preheader, data.mjml) == [], slug
        assert template_service.warnings_for(data.category, data.mjml) == [], slug
        assert data.category == "marketing"


def test_a_marketer_creates_a_template_from_each_starter(app, login):
    marketer = login("marketer")
    page = marketer.get("/templates/new").get_data(as_text=True)
    for name in ("Welcome", "Abandoned cart", "Post-purchase", "Win-back", "Blank"):
        assert name in page
    for slug in SLUGS:
        resp = marketer.post("/templates", data={"csrf_token": page_csrf(marketer), "starter": slug,
                                                 "slug": f"my-{slug}", "name": f"My {slug}"})
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/templates/my-{slug}/edit")
        [version] = _versions(app, f"my-{slug}")
        assert version.mjml == template_starters()[slug].mjml and version.number == 1
    listing = marketer.get("/templates").get_data(as_text=True)
    assert all(f"my-{slug}" in listing for slug in SLUGS)


@pytest.mark.parametrize("data, field, message", [
    ({"starter": "welcome", "slug": "Not A Slug"}, "slug", "String should match pattern"),
    ({"starter": "welcome", "slug": ""}, "slug", "at least 1 character"),
    ({"starter": "no-such-starter", "slug": "ok"}, "starter", "Choose one of the starters"),
    ({"starter": "welcome", "slug": "ok", "category": "spam"}, "category", "'marketing' or 'transactional'"),
])
def test_a_bad_new_template_is_refused_with_its_field_and_nothing_is_created(app, login, data, field, message):
    marketer = login("marketer")
    resp = marketer.post("/templates", data={"csrf_token": page_csrf(marketer), **data})
    assert resp.status_code == 422
    assert message in html.unescape(resp.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Template)) == 0


def test_a_taken_slug_is_refused(app, login):
    make_template(app, "welcome")
    marketer = login("marketer")
    resp = marketer.post("/templates", data={"csrf_token": page_csrf(marketer), "starter": "blank", "slug": "welcome"})
    assert resp.status_code == 409 and "exists already" in resp.get_data(as_text=True)


def test_the_editor_page_shows_the_saved_template_rendered_as_sent(app, login):
    make_template(app, "cart", "Your {{ event['items'][0].title }} is waiting", mjml=GOOD)
    viewer = login("viewer")
    resp = viewer.get("/templates/cart/edit")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Your Merino Wool Beanie is waiting" in page  # the sample cart, rendered
    [email] = frames(page)
    assert "Hi Ana," in email and "Merino Wool Beanie" in email
    assert "/preview-link-unsubscribe" in email  # preview links lead nowhere
    assert 'data-readonly="1"' in page and "save-button" not in page  # a viewer reads, cannot save
    # The email's inline styles need them; other pages keep the strict policy.
    assert "style-src 'self' 'unsafe-inline' https:" in resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in viewer.get("/templates").headers["Content-Security-Policy"]


def test_the_preview_renders_what_is_typed_for_the_sample_or_a_contact(app, login):
    make_template(app, "cart")
    with app.app_context():
        with db.transaction() as s:
            who = contact(s, "zofia@example.pl", attributes={"first_name": "Zofia"}).id
    viewer = login("viewer")
    resp = _post(viewer, "/templates/cart/preview", form("Hi {{ contact.first_name }}", GOOD))
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert problems_in(page) == [] and "Hi Ana" in page and 'hx-swap-oob="true"' in page
    resp = _post(viewer, "/templates/cart/preview", form("Hi {{ contact.first_name }}", GOOD, contact=str(who)))
    assert "Hi Zofia" in resp.get_data(as_text=True)
    sample = '{"contact": {"email": "k@example.com", "attributes": {"first_name": "Kasia"}}, "event": {"items": [{"title": "Scarf"}]}}'
    resp = _post(viewer, "/templates/cart/preview", form("Hi {{ contact.first_name }}", GOOD, sample=sample))
    page = resp.get_data(as_text=True)
    assert "Hi Kasia" in page and "Your Scarf is waiting" in frames(page)[0]


@pytest.mark.parametrize("data, part, line, text", [
    (form("Hi", BROKEN), "mjml", 3, "is not closed"),
    (form("Hi {{ contact.first_name ", GOOD), "subject", 1, "unexpected end of template"),
    (form("Hi", GOOD, preheader="{% if %}"), "preheader", 1, ""),
    (form("Hi", GOOD.replace("Hello", "{{ 1 / 0 }}").replace("Your", "{% for x in 3 %}")), "mjml", None, ""),
    (form("Hi", GOOD, sample='{"contact": {\n"email": }'), "sample", 2, "not JSON"),
    (form("Hi", GOOD, sample='[1, 2]'), "sample", None, '"contact" and "event"'),
    (form("Hi", GOOD, contact="999999"), "contact", None, "does not exist"),
    (form("Hi", GOOD, contact="not-a-number"), "contact", None, "does not exist"),
])
def test_a_problem_comes_back_on_its_part_and_line(app, login, data, part, line, text):
    make_template(app, "cart")
    resp = _post(login("viewer"), "/templates/cart/preview", data)
    assert resp.status_code == 422
    [problem] = [p for p in problems_in(resp.get_data(as_text=True)) if p["severity"] == "error"]
    assert problem["part"] == part and text in problem["message"]
    if line is not None:
        assert problem["line"] == line
    assert 'hx-swap-oob' not in resp.get_data(as_text=True)  # the last good render stays on screen


def test_a_jinja_error_in_the_body_is_on_its_line(app, login):
    make_template(app, "cart")
    mjml = BROKEN.replace("<mj-text>hi</mj-text>", "<mj-text>hi</mj-text>\n<mj-text>{{ contact.name | nosuchfilter }}</mj-text>")
    mjml = mjml.replace("</mj-column>\n</mj-body>", "</mj-column>\n</mj-section>\n</mj-body>")
    line = 6
    assert mjml.split("\n")[line - 1] == "<mj-text>{{ contact.name | nosuchfilter }}</mj-text>"
    resp = _post(login("viewer"), "/templates/cart/preview", form("Hi", mjml))
    [problem] = problems_in(resp.get_data(as_text=True))
    assert (problem["part"], problem["line"]) == ("mjml", line) and "nosuchfilter" in problem["message"]


def test_warnings_do_not_stop_the_preview(app, login):
    make_template(app, "cart")
    no_link = "<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>"
    resp = _post(login("viewer"), "/templates/cart/preview", form("Hi", no_link))
    assert resp.status_code == 200
    [warning] = problems_in(resp.get_data(as_text=True))
    assert warning["severity"] == "warning" and "unsubscribe_url" in warning["message"]
    assert len(frames(resp.get_data(as_text=True))) == 1


def test_saving_makes_a_version_only_when_the_content_changes(app, login):
    make_template(app, "cart", "Old subject")
    marketer = login("marketer")
    resp = _post(marketer, "/templates/cart/edit", form("New {{ contact.first_name }}", GOOD, name="Cart v2"))
    assert resp.status_code == 200 and "Saved as version 2" in resp.get_data(as_text=True)
    assert resp.headers["HX-Trigger"] == '{"jr:saved": {"version": 2}}'
    resp = _post(marketer, "/templates/cart/edit", form("New {{ contact.first_name }}", GOOD, name="Cart v2"))
    assert "the content is unchanged" in resp.get_data(as_text=True)
    versions = _versions(app, "cart")
    assert [v.number for v in versions] == [1, 2] and versions[1].subject == "New {{ contact.first_name }}"
    assert versions[1].created_by_id is not None
    with app.app_context():
        assert db.session.scalar(select(Template.name).where(Template.slug == "cart")) == "Cart v2"


@pytest.mark.parametrize("data", [form("Hi", BROKEN), form("", GOOD), form("Hi", ""), form("Hi\x00", GOOD)])
def test_a_template_that_does_not_compile_is_not_saved(app, login, data):
    make_template(app, "cart")
    resp = _post(login("marketer"), "/templates/cart/edit", data)
    assert resp.status_code == 422 and "Not saved." in resp.get_data(as_text=True)
    assert len(_versions(app, "cart")) == 1


def test_a_viewer_cannot_save_restore_archive_or_test(app, login):
    make_template(app, "cart")
    viewer = login("viewer")
    for path in ("/templates/cart/edit", "/templates/cart/test", "/templates/cart/archive",
                 "/templates/cart/versions/1/restore"):
        assert _post(viewer, path, form("Hi", GOOD, to="a@example.com")).status_code == 403, path
    assert len(_versions(app, "cart")) == 1


def test_an_old_version_is_viewed_and_restored_as_a_new_version(app, login):
    make_template(app, "cart", "First")
    marketer = login("marketer")
    _post(marketer, "/templates/cart/edit", form("Second", GOOD))
    listing = marketer.get("/templates/cart/versions").get_data(as_text=True)
    assert "v1" in listing and "v2" in listing and "Restore as new version" in listing
    old = marketer.get("/templates/cart/versions/1")
    assert old.status_code == 200 and "First" in old.get_data(as_text=True)
    assert marketer.get("/templates/cart/versions/7").status_code == 404
    resp = marketer.post("/templates/cart/versions/1/restore", data={"csrf_token": page_csrf(marketer)})
    assert resp.status_code == 302
    assert [(v.number, v.subject) for v in _versions(app, "cart")] == [(1, "First"), (2, "Second"), (3, "First")]
    assert "Version 1 restored as version 3" in marketer.get("/templates/cart/edit").get_data(as_text=True)
    assert marketer.post("/templates/cart/versions/9/restore",
                         data={"csrf_token": page_csrf(marketer)}).status_code == 404


def test_archiving_hides_a_template_and_unarchiving_brings_it_back(app, login):
    make_template(app, "cart")
    marketer = login("marketer")
    marketer.post("/templates/cart/archive", data={"csrf_token": page_csrf(marketer), "archived": "1"})
    assert "/templates/cart/edit" not in marketer.get("/templates").get_data(as_text=True)
    assert "/templates/cart/edit" in marketer.get("/templates?archived=1").get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "template.archive"))
        assert entry.target == "template:cart" and entry.actor == "marketer@example.com"
    marketer.post("/templates/cart/archive", data={"csrf_token": page_csrf(marketer), "archived": "0"})
    assert "/templates/cart/edit" in marketer.get("/templates").get_data(as_text=True)


def test_the_contact_picker_finds_contacts_by_email(app, login):
    with app.app_context():
        with db.transaction() as s:
            contact(s, "marta@shop.example")
            contact(s, "jan@other.example")
    viewer = login("viewer")
    page = viewer.get("/templates/preview-contacts?q=shop.example").get_data(as_text=True)
    assert "marta@shop.example" in page and "jan@other.example" not in page
    assert "No contact matches" in viewer.get("/templates/preview-contacts?q=nobody").get_data(as_text=True)
    assert viewer.get("/templates/preview-contacts").status_code == 200


# --- test sends, through a real SMTP server in this process ---

@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def mailing(app, settings, smtp):  # type: ignore[no-untyped-def]
    """A client of the app configured to send through the in-process SMTP server, signed in as a marketer."""
    application = create_app(settings.with_overrides(smtp_url=smtp.url))
    make_user(application, "mia@example.com", "marketer")
    client = application.test_client()
    assert sign_in(client, "mia@example.com").status_code == 302
    yield application, client
    application.extensions["db_engine"].dispose()


def test_a_test_send_arrives_with_what_the_editor_shows(app, mailing, smtp):
    application, client = mailing
    make_template(application, "cart", "Saved subject")
    resp = _post(client, "/templates/cart/test", form("Unsaved: your {{ event['items'][0].title }}", GOOD,
                                                      to="Boss@Example.com"))
    assert resp.status_code == 200 and "Sent to boss@example.com" in resp.get_data(as_text=True)
    [mail] = smtp.box.to("boss@example.com")
    assert mail["Subject"] == "[Test] Unsaved: your Merino Wool Beanie"
    assert "Your Merino Wool Beanie is waiting" in mail.get_body(("html",)).get_content()
    assert mail["From"] == application.config["SETTINGS"].mail_from
    with application.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "template.test_send"))
        assert entry.actor == "mia@example.com" and entry.details["to"] == "boss@example.com" and entry.details["sent"]
        assert db.session.scalar(select(func.count()).select_from(TemplateVersion)) == 1  # nothing saved


@pytest.mark.parametrize("data, message", [
    (form("Hi", GOOD, to="not an address"), "is not an email address"),
    (form("Hi", GOOD, to=""), "an email address is required"),
    (form("Hi", BROKEN, to="boss@example.com"), "Fix the template first"),
])
def test_a_bad_test_send_sends_nothing(app, mailing, smtp, data, message):
    application, client = mailing
    make_template(application, "cart")
    resp = _post(client, "/templates/cart/test", data)
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert smtp.box.count() == 0


def test_test_sends_are_rate_limited_per_user(app, mailing, smtp):
    application, client = mailing
    make_template(application, "cart")
    codes = [_post(client, "/templates/cart/test", form("Hi", GOOD, to="boss@example.com")).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert smtp.box.count() == 5


def test_a_refusing_mail_server_is_reported_and_audited(app, mailing, smtp):
    application, client = mailing
    make_template(application, "cart")
    smtp.box.refuse_rcpt = "550 5.1.1 no such user"
    resp = _post(client, "/templates/cart/test", form("Hi", GOOD, to="gone@example.com"))
    assert resp.status_code == 502 and "550" in resp.get_data(as_text=True)
    with application.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "template.test_send"))
        assert entry.details["sent"] is False and "550" in entry.details["error"]
