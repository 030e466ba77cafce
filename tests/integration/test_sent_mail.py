"""The sent-mail viewer (development only): lists the outbox newest first, shows a message's HTML
in a sandboxed frame without its open pixel and its text part, and reads nothing but the
outbox's own messages, whatever name a URL carries."""
from __future__ import annotations

import html
import os
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app import create_app
from app.mail import outbox
from app.mail.backends import OutboxBackend
from app.mail.message import build_message

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def _send(folder: Path, subject: str, *, to: str = "ana@example.com", at: datetime = T0, html_body: str | None = None,
          text: str = "Hello Ana, your cart is waiting.") -> str:
    body = html_body or (f"<html><body><h1>{subject}</h1><p>Hello <b>Ana</b> &amp; co.</p>"
                         '<a href="http://127.0.0.1:5000/t/c/1.1.abc">Shop</a>'
                         '<img src="http://127.0.0.1:5000/t/o/1.xyz.gif" width="1" height="1" alt=""></body></html>')
    message = build_message(key=f"test:{secrets.token_hex(4)}", sender="Shop <shop@example.com>", to=to,
                            subject=subject, html=body, text=text, now=at, domain="example.com",
                            list_unsubscribe="<http://127.0.0.1:5000/u/tok>", one_click=True)
    return OutboxBackend(folder).send(message)


@pytest.fixture
def mailbox(settings):  # type: ignore[no-untyped-def]
    folder = settings.outbox_path
    before = set(outbox.names(folder))
    yield folder
    for name in set(outbox.names(folder)) - before:
        (folder / name).unlink(missing_ok=True)


def test_the_list_shows_newest_first_with_subject_recipient_and_date(login, mailbox):
    tag = secrets.token_hex(3)
    first = _send(mailbox, f"Older {tag}", to="old@example.com", at=T0)
    second = _send(mailbox, f"Newer {tag}", to="new@example.com", at=T0 + timedelta(minutes=5))
    client = login("marketer")
    page = client.get("/sent-mail").get_data(as_text=True)
    assert page.index(f"Newer {tag}") < page.index(f"Older {tag}")
    assert "new@example.com" in page and "2025-06-01 12:05:00" in page
    assert f'href="/sent-mail/{second}"' in page and f'href="/sent-mail/{first}"' in page
    assert 'href="/sent-mail"' in page  # in the navigation


def test_a_message_shows_its_html_in_a_sandbox_without_the_open_pixel_and_its_text(login, mailbox):
    name = _send(mailbox, "Your cart is waiting")
    client = login("admin")
    resp = client.get(f"/sent-mail/{name}")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Your cart is waiting" in page and "shop@example.com" in page
    frame = page.split("<iframe", 1)[1].split("</iframe>", 1)[0]
    assert 'sandbox=""' in frame and "srcdoc=" in frame
    shown = html.unescape(frame.split('srcdoc="', 1)[1].split('"', 1)[0])
    assert "<b>Ana</b>" in shown and "/t/c/1.1.abc" in shown
    assert "/t/o/" not in shown  # looking here is not the contact opening it
    policy = resp.headers["Content-Security-Policy"]
    assert "frame-src 'none'" in policy and "style-src 'self' 'unsafe-inline'" in policy
    text = client.get(f"/sent-mail/{name}?view=text").get_data(as_text=True)
    assert "Hello Ana, your cart is waiting." in text and "<iframe" not in text
    source = client.get(f"/sent-mail/{name}?view=source").get_data(as_text=True)
    assert "List-Unsubscribe" in source and "Message-ID" in source
    assert client.get(f"/sent-mail/{name}?view=mobile").status_code == 200
    assert client.get(f"/sent-mail/{name}?view=<script>").status_code == 200  # an unknown view: the default


def test_viewers_and_strangers_do_not_see_sent_mail(client, login, mailbox):
    name = _send(mailbox, "Private")
    assert client.get(f"/sent-mail/{name}").status_code == 302  # to the sign-in page
    viewer = login("viewer")
    assert viewer.get("/sent-mail").status_code == 403 and viewer.get(f"/sent-mail/{name}").status_code == 403
    assert 'href="/sent-mail"' not in viewer.get("/journeys").get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/sent-mail/..%2Fsecret_key", "/sent-mail/..%2F..%2Fetc%2Fpasswd", "/sent-mail/%2E%2E", "/sent-mail/..",
    "/sent-mail/.writing-abc.tmp", "/sent-mail/secret_key", "/sent-mail/x.eml%00.txt", "/sent-mail/..eml",
    "/sent-mail/%2Fetc%2Fpasswd", "/sent-mail/not-there.eml",
])
def test_names_that_are_not_outbox_messages_read_nothing(login, mailbox, path):
    _send(mailbox, "Real one")
    resp = login("admin").get(path)
    assert resp.status_code == 404, path
    assert "test-secret-key" not in resp.get_data(as_text=True) and "root:" not in resp.get_data(as_text=True)


def test_a_link_or_folder_inside_the_outbox_is_not_followed(login, mailbox, settings):
    secret = settings.instance_path / "elsewhere.txt"
    secret.write_text("Subject: stolen\n\nnot for you\n")
    link, folder = mailbox / "20250601T000000000000Z-link-aaaaaa.eml", mailbox / "20250601T000000000000Z-dir-bbbbbb.eml"
    try:
        os.symlink(secret, link)
        folder.mkdir()
        client = login("admin")
        assert client.get(f"/sent-mail/{link.name}").status_code == 404
        assert client.get(f"/sent-mail/{folder.name}").status_code == 404
        assert link.name not in client.get("/sent-mail").get_data(as_text=True)
        with pytest.raises(outbox.NotInOutbox):
            outbox.read(mailbox, "../elsewhere.txt")
    finally:
        link.unlink(missing_ok=True)
        folder.rmdir()
        secret.unlink()


def test_an_empty_or_missing_outbox_is_a_page_that_says_so(login, settings, tmp_path):
    client = login("marketer")
    app = client.application
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = original.with_overrides(instance_path=tmp_path / "nothing-here")
    try:
        page = client.get("/sent-mail").get_data(as_text=True)
        assert "No mail yet" in page
        assert client.get("/sent-mail?page=abc").status_code == 200
    finally:
        app.config["SETTINGS"] = original


def test_the_viewer_does_not_exist_in_production(settings):
    production = create_app(settings.with_overrides(env="production"))
    rules = {rule.rule for rule in production.url_map.iter_rules()}
    assert not any(rule.startswith("/sent-mail") for rule in rules)
    assert "/journeys" in rules
    production.extensions["db_engine"].dispose()
