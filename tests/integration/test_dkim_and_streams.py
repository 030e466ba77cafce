"""DKIM: mail delivered to a real SMTP server carries a signature that dkimpy verifies against the
configured key's DNS record. Streams: transactional mail can take its own server."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import dkim
import pytest
from sqlalchemy import select

from app import clock, create_app
from app.config import load_settings
from app.db import db
from app.errors import ConfigError
from app.mail import dkim as jdkim
from app.models import DkimKey
from app.services import dkim_keys, workspace
from tests.conftest import csrf_from, environ_for
from tests.engine_support import SMTPServer, chain, event, journey, post, send, template, work

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


def dns_for(record: str, name: str) -> Any:
    """A resolver that knows one TXT record, as the receiver's DNS would."""
    def lookup(qname: bytes, timeout: int = 5) -> bytes | None:
        return record.encode() if qname.decode().rstrip(".") == name else None
    return lookup


def send_one(application: Any, email: str, category: str = "marketing") -> None:
    with application.app_context(), db.transaction() as s:
        workspace.update(s, {"from_address": "news@shop.example", "from_name": "Shop"}, actor="test", now=T0)
        template(s, "hello", "Hello", now=T0, category=category)
        journey(s, chain("signed_up", send("hi", "hello", category)), now=T0)
    post(application, event("signed_up", email))
    work(application)


def test_a_message_signed_with_the_environment_key_verifies_with_dkimpy(app, settings, smtp, tmp_path):
    pem = jdkim.generate_private_key()
    key_file = Path(tmp_path) / "dkim.pem"
    key_file.write_bytes(pem)
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0,
                                                     dkim_private_key_path=str(key_file), dkim_selector="mail2026"))
    clock.set_source(lambda: T0)
    send_one(application, "ola@example.com")
    [received] = smtp.box.received
    assert received.raw.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=shop.example;")
    record = jdkim.dns_record(pem)
    assert dkim.verify(received.raw, dnsfunc=dns_for(record, "mail2026._domainkey.shop.example"))
    signature = received.message["DKIM-Signature"]
    assert "list-unsubscribe" in signature and "list-unsubscribe-post" in signature
    # another key's record does not verify it: the check is real
    assert not dkim.verify(received.raw, dnsfunc=dns_for(jdkim.dns_record(jdkim.generate_private_key()),
                                                         "mail2026._domainkey.shop.example"))
    with application.app_context():
        records = {r.kind: r for r in dkim_keys.dns_records(db.session, application.config["SETTINGS"])}
    assert records["DKIM"].host == "mail2026._domainkey.shop.example" and records["DKIM"].value == record
    assert records["DMARC"].host == "_dmarc.shop.example" and records["SPF"].host == "shop.example"
    application.extensions["db_engine"].dispose()


def test_a_key_generated_in_settings_signs_once_activated(app, settings, smtp, client, login):
    login("admin")
    page = client.get("/settings/deliverability/")
    assert page.status_code == 200 and "No key yet" in page.get_data(as_text=True)
    csrf = csrf_from(page.get_data(as_text=True))
    bad = client.post("/settings/deliverability/dkim", data={"csrf_token": csrf, "domain": "shop.example",
                                                           "selector": "not a label"})
    assert bad.status_code == 422 and "DNS label" in bad.get_data(as_text=True)
    made = client.post("/settings/deliverability/dkim", data={"csrf_token": csrf, "domain": "shop.example",
                                                            "selector": "j1"})
    assert made.status_code == 302
    dup = client.post("/settings/deliverability/dkim", data={"csrf_token": csrf, "domain": "shop.example",
                                                           "selector": "j1"})
    assert dup.status_code == 409
    with app.app_context():
        row = db.session.scalars(select(DkimKey)).one()
        record = jdkim.dns_record(row.private_key.encode())
        ident = row.id
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    send_one(application, "before@example.com")  # not active yet: unsigned
    assert smtp.box.received[0].message["DKIM-Signature"] is None
    page = client.get("/settings/deliverability/").get_data(as_text=True)
    assert "j1._domainkey.shop.example" in page and record in page
    assert client.post(f"/settings/deliverability/dkim/{ident}/active", data={"csrf_token": csrf, "active": "1"}).status_code == 302
    post(application, event("signed_up", "after@example.com"))
    work(application)
    raw = smtp.box.received[-1].raw
    assert dkim.verify(raw, dnsfunc=dns_for(record, "j1._domainkey.shop.example"))
    application.extensions["db_engine"].dispose()


def test_a_dkim_path_without_a_selector_or_a_bad_key_file_is_a_clear_error(tmp_path, redis_url):
    env = environ_for(tmp_path, f"sqlite:///{tmp_path}/x.db", redis_url, DKIM_PRIVATE_KEY_PATH=str(tmp_path / "k.pem"))
    with pytest.raises(ConfigError, match="DKIM_SELECTOR"):
        load_settings(env)
    (tmp_path / "k.pem").write_text("not a key")
    settings = load_settings({**env, "DKIM_SELECTOR": "s1"})
    with pytest.raises(ConfigError, match="not a PEM private key"):
        dkim_keys._key_file(settings.dkim_private_key_path or "")


def test_transactional_mail_takes_its_own_server(app, settings):
    with SMTPServer() as marketing, SMTPServer() as transactional:
        application = create_app(settings.with_overrides(smtp_url=marketing.url, mail_rate_per_second=0,
                                                         smtp_url_transactional=transactional.url))
        clock.set_source(lambda: T0)
        with application.app_context(), db.transaction() as s:
            template(s, "news", "News", now=T0)
            template(s, "receipt", "Your receipt", now=T0, category="transactional")
            journey(s, chain("order_placed", send("r", "receipt", "transactional"), send("n", "news")), now=T0)
        post(application, event("order_placed", "buyer@example.com"))
        work(application)
        assert [m["Subject"] for m in marketing.box.to("buyer@example.com")] == ["News"]
        assert [m["Subject"] for m in transactional.box.to("buyer@example.com")] == ["Your receipt"]
        application.extensions["db_engine"].dispose()


def test_streams_read_their_own_settings(tmp_path, redis_url):
    from app.mail.streams import streams_from_settings

    env = environ_for(tmp_path, f"sqlite:///{tmp_path}/x.db", redis_url, SMTP_URL="smtp://mk.example:25",
                      SMTP_URL_TRANSACTIONAL="smtp://tx.example:587?starttls=1",
                      MAIL_RATE_PER_SECOND="20", MAIL_RATE_PER_SECOND_TRANSACTIONAL="5")
    streams = streams_from_settings(load_settings(env))
    assert streams.marketing.backend.settings.host == "mk.example"  # type: ignore[attr-defined]
    assert streams.transactional.backend.settings.host == "tx.example"  # type: ignore[attr-defined]
    assert streams.marketing.limiter.per_second == 20 and streams.transactional.limiter.per_second == 5  # type: ignore[union-attr]
    assert streams.transactional.limiter.name != streams.marketing.limiter.name  # type: ignore[union-attr]
    shared = streams_from_settings(load_settings({**env, "SMTP_URL_TRANSACTIONAL": "",
                                                  "MAIL_RATE_PER_SECOND_TRANSACTIONAL": ""}))
    assert shared.transactional is shared.marketing
    with pytest.raises(ConfigError):
        load_settings({**env, "MAIL_RATE_PER_SECOND_TRANSACTIONAL": "-1"})
