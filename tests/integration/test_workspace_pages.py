"""Settings → Workspace and Email sending: values stored and audited, bad ones refused with
nothing changed, the SMTP in effect shown without its password, test emails, and the engine
using the settings (sender, shop, default zone and quiet hours, consent mode) on real sends."""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from app import clock, create_app
from app.db import db
from app.models import AuditEntry, Message, WorkspaceSetting
from app.services import workspace
from tests.conftest import make_user, page_csrf, sign_in
from tests.engine_support import SMTPServer, chain, event, journey, post, run_until_quiet, send, template, work

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
WORKSPACE_FORM = {"shop_name": "Acme Outdoor", "shop_url": "https://acme.example", "shop_address": "ul. Długa 1, Warszawa",
                  "default_timezone": "Europe/Warsaw", "marketing_consent": "explicit", "quiet_hours": "1",
                  "quiet_start": "21:00", "quiet_end": "08:00"}


def _ws(app: Any) -> workspace.Workspace:
    with app.app_context():
        return workspace.current(db.session)


def _text(resp) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(resp.get_data(as_text=True))


def test_an_admin_changes_the_workspace_settings(app, login):
    admin = login("admin")
    page = _text(admin.get("/settings/workspace"))
    assert "Our shop" in page and 'value="UTC"' in page and "Explicit opt-in" in page
    resp = admin.post("/settings/workspace", data={"csrf_token": page_csrf(admin), **WORKSPACE_FORM})
    assert resp.status_code == 302
    ws = _ws(app)
    assert (ws.shop_name, ws.shop_url, ws.shop_address) == ("Acme Outdoor", "https://acme.example", "ul. Długa 1, Warszawa")
    assert ws.default_timezone == "Europe/Warsaw" and ws.default_quiet_hours.start == "21:00"
    assert "Workspace settings saved" in _text(admin.get("/settings/workspace"))
    admin.post("/settings/workspace", data={"csrf_token": page_csrf(admin), **WORKSPACE_FORM, "quiet_hours": "",
                                            "marketing_consent": "not_unsubscribed"})
    ws = _ws(app)
    assert ws.default_quiet_hours is None and ws.marketing_consent == "not_unsubscribed"
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.update")
                                   .order_by(AuditEntry.id)).first()
        assert entry.actor == "admin@example.com" and entry.details["changed"]["shop_name"] == ["Our shop", "Acme Outdoor"]


@pytest.mark.parametrize("changes, message", [
    ({"default_timezone": "Mars/Olympus"}, "is not an IANA time zone"),
    ({"quiet_start": "25:00"}, "Quiet hours:"),
    ({"shop_url": "ftp://acme.example"}, "is not a web address"),
    ({"shop_name": "   "}, "is required"),
    ({"shop_address": "line one\nline two"}, "must be one line"),
    ({"marketing_consent": "whatever"}, "'explicit' or 'not_unsubscribed'"),
])
def test_a_bad_workspace_value_is_refused_and_nothing_changes(app, login, changes, message):
    admin = login("admin")
    resp = admin.post("/settings/workspace", data={"csrf_token": page_csrf(admin), **WORKSPACE_FORM, **changes})
    assert resp.status_code == 422 and message in _text(resp)
    assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(WorkspaceSetting)).all() == []


def test_the_sender_is_saved_and_bad_addresses_are_refused(app, login):
    admin = login("admin")
    for data, message in [({"from_address": "not-an-address"}, "is not an email address"),
                          ({"reply_to": "also@bad@example.com"}, "is not an email address"),
                          ({"from_name": "Acme\r\nBcc: victim@example.com"}, "must be one line")]:
        resp = admin.post("/settings/email", data={"csrf_token": page_csrf(admin), **data})
        assert resp.status_code == 422 and message in _text(resp), data
    assert _ws(app).from_address == ""
    resp = admin.post("/settings/email", data={"csrf_token": page_csrf(admin), "from_name": "Acme Outdoor",
                                               "from_address": "Hello@Acme.example", "reply_to": "support@acme.example"})
    assert resp.status_code == 302
    ws = _ws(app)
    assert (ws.from_name, ws.from_address, ws.reply_to) == ("Acme Outdoor", "hello@acme.example", "support@acme.example")
    assert "Every email is sent as <strong>Acme Outdoor <hello@acme.example></strong>" in _text(admin.get("/settings/email"))


def test_marketers_and_viewers_cannot_change_settings(app, login):
    marketer = login("marketer")
    for path in ("/settings/workspace", "/settings/email", "/settings/email/test"):
        assert marketer.post(path, data={"csrf_token": page_csrf(marketer), **WORKSPACE_FORM}).status_code == 403
        assert marketer.get(path.removesuffix("/test")).status_code == 403
    assert _ws(app).shop_name == "Our shop"


def test_the_smtp_in_effect_is_shown_without_its_password(app, settings, login):
    application = create_app(settings.with_overrides(
        smtp_url="smtp+starttls://mailer%40acme:s3cr%2Ft@mail.acme.example:2587?timeout=12"))
    make_user(application, "root@example.com", "admin")
    client = application.test_client()
    sign_in(client, "root@example.com")
    page = _text(client.get("/settings/email"))
    application.extensions["db_engine"].dispose()
    assert "mail.acme.example:2587" in page and "STARTTLS, required" in page and "mailer@acme" in page
    assert "(set)" in page and "12 s" in page
    assert "s3cr" not in page and "s3cr%2Ft" not in page
    assert "secrets stay in the" in page
    outbox = _text(login("admin").get("/settings/email"))
    assert "No SMTP_URL: emails are written to the outbox folder" in outbox


# --- real sends through an in-process SMTP server ---

@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def engine_app(app, settings, smtp):  # type: ignore[no-untyped-def]
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def admin(engine_app):  # type: ignore[no-untyped-def]
    make_user(engine_app, "root@example.com", "admin")
    client = engine_app.test_client()
    assert sign_in(client, "root@example.com").status_code == 302
    return client


def test_a_test_email_arrives_from_the_workspace_sender(engine_app, admin, smtp):
    admin.post("/settings/email", data={"csrf_token": page_csrf(admin), "from_name": "Acme Outdoor",
                                        "from_address": "hello@acme.example", "reply_to": ""})
    resp = admin.post("/settings/email/test", data={"csrf_token": page_csrf(admin), "to": "ops@acme.example"})
    assert resp.status_code == 200 and "Sent to ops@acme.example from Acme Outdoor <hello@acme.example>" in _text(resp)
    [mail] = smtp.box.to("ops@acme.example")
    assert mail["From"] == "Acme Outdoor <hello@acme.example>" and mail["Subject"].startswith("[Test] Mail settings check")
    assert mail["Reply-To"] is None
    resp = admin.post("/settings/email/test", data={"csrf_token": page_csrf(admin), "to": "nope"})
    assert resp.status_code == 422 and smtp.box.count() == 1
    smtp.box.refuse_rcpt = "550 5.7.1 relaying denied"
    resp = admin.post("/settings/email/test", data={"csrf_token": page_csrf(admin), "to": "ops@acme.example"})
    assert resp.status_code == 502 and "relaying denied" in _text(resp)
    with engine_app.app_context():
        sent = [e.details["sent"] for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "settings.test_email").order_by(AuditEntry.id))]
    assert sent == [True, False]


def test_a_journeys_send_uses_the_sender_and_shop_set_in_settings(engine_app, admin, smtp):
    admin.post("/settings/email", data={"csrf_token": page_csrf(admin), "from_name": "Acme Outdoor",
                                        "from_address": "hello@acme.example", "reply_to": "support@acme.example"})
    admin.post("/settings/workspace", data={"csrf_token": page_csrf(admin), **WORKSPACE_FORM, "quiet_hours": ""})
    with engine_app.app_context():
        with db.transaction() as s:
            template(s, "welcome", "Welcome to {{ shop.name }}", "<mj-text>See {{ shop.url }}</mj-text>", now=T0)
            journey(s, chain("signed_up", send("hello", "welcome")), now=T0)
    post(engine_app, event("signed_up", "klara@example.com"))
    work(engine_app)
    [mail] = smtp.box.to("klara@example.com")
    assert mail["From"] == "Acme Outdoor <hello@acme.example>" and mail["Reply-To"] == "support@acme.example"
    assert mail["Subject"] == "Welcome to Acme Outdoor"
    assert mail["Message-ID"].endswith("@acme.example>")
    assert "See https://acme.example" in mail.get_body(("html",)).get_content()


def _set(application: Any, **changes: Any) -> None:
    with application.app_context():
        with db.transaction() as s:
            workspace.update(s, changes, actor="test", now=T0)


def test_the_default_zone_and_quiet_hours_hold_a_send_where_the_journey_sets_none(engine_app, smtp):
    _set(engine_app, default_timezone="Asia/Tokyo", default_quiet_hours={"start": "21:00", "end": "08:00"})
    with engine_app.app_context():
        with db.transaction() as s:
            template(s, "cart", "Your cart", now=T0)
            journey(s, chain("checkout_started", send("remind", "cart")), now=T0)
    evening = datetime(2026, 12, 1, 13, 0, tzinfo=timezone.utc)  # 22:00 in Tokyo, 13:00 in UTC
    clock.set_source(lambda: evening)
    post(engine_app, event("checkout_started", "kenji@example.jp"))  # no time zone of their own
    work(engine_app)
    run_until_quiet(engine_app, datetime(2026, 12, 1, 22, 59, tzinfo=timezone.utc))
    assert smtp.box.count() == 0
    run_until_quiet(engine_app, datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc))  # 08:00 in Tokyo
    assert len(smtp.box.to("kenji@example.jp")) == 1


def test_a_journeys_own_zone_wins_over_the_workspace_default(engine_app, smtp):
    _set(engine_app, default_timezone="Asia/Tokyo", default_quiet_hours={"start": "21:00", "end": "08:00"})
    with engine_app.app_context():
        with db.transaction() as s:
            template(s, "cart", "Your cart", now=T0)
            journey(s, chain("checkout_started", send("remind", "cart"), settings={"timezone": "UTC"}), now=T0)
    clock.set_source(lambda: datetime(2026, 12, 1, 13, 0, tzinfo=timezone.utc))  # 13:00 UTC: not quiet
    post(engine_app, event("checkout_started", "kenji@example.jp"))
    work(engine_app)
    assert len(smtp.box.to("kenji@example.jp")) == 1


@pytest.mark.parametrize("mode, sent", [("explicit", 0), ("not_unsubscribed", 1)])
def test_the_consent_mode_decides_mail_to_contacts_who_never_opted_in(engine_app, smtp, mode, sent):
    _set(engine_app, marketing_consent=mode)
    with engine_app.app_context():
        with db.transaction() as s:
            template(s, "news", "News", now=T0)
            journey(s, chain("signed_up", send("m", "news")), now=T0)
    data = event("signed_up", "lena@example.com")
    del data["contact"]["consent"]  # never asked: neither subscribed nor unsubscribed
    post(engine_app, data)
    work(engine_app)
    assert smtp.box.count() == sent
    unsubscribed = event("signed_up", "olaf@example.com")
    unsubscribed["contact"]["consent"] = {"marketing": "unsubscribed"}
    post(engine_app, unsubscribed)
    work(engine_app)
    assert smtp.box.to("olaf@example.com") == []  # an unsubscribe is final in either mode
    with engine_app.app_context():
        assert db.session.scalar(select(Message.status).where(Message.to_email == "olaf@example.com")) in (None, "suppressed")
