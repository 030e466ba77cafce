"""Mail backends against a real SMTP server in the process: what arrives, and what each refusal means."""
from __future__ import annotations

import socket
import threading
from datetime import datetime, timezone
from email import message_from_bytes, policy
from pathlib import Path
from typing import Iterator

import pytest

from app.mail import (AmbiguousFailure, ConfigError, OutboxBackend, PermanentFailure, SMTPBackend,
                      TemporaryFailure, build_message, message_id_for, parse_smtp_url)
from tests.engine_support import SMTPServer, free_port

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def mail(to: str = "zoe@example.com", key: str = "7:hello:1", subject: str = "Witaj, Zoë"):  # type: ignore[no-untyped-def]
    return build_message(key=key, sender="Shop <news@shop.example>", to=to, subject=subject,
                         html="<p>Hello <b>Zoë</b></p>", text="Hello Zoë\n", now=NOW, domain="shop.example",
                         list_unsubscribe="https://j.example/u/TOKEN", one_click=True)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


def test_a_message_arrives_with_both_parts_and_the_headers(smtp):
    with SMTPBackend.from_url(smtp.url) as backend:
        reply = backend.send(mail())
    assert reply.startswith("250")
    [got] = smtp.box.received
    assert got.sender == "news@shop.example" and got.recipients == ["zoe@example.com"]
    message = got.message
    assert message["Subject"] == "Witaj, Zoë"
    assert message["Message-ID"] == message_id_for("7:hello:1", "shop.example")
    assert message["List-Unsubscribe"] == "<https://j.example/u/TOKEN>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("plain",)).get_content().strip() == "Hello Zoë"
    assert "<b>Zoë</b>" in message.get_body(("html",)).get_content()


def test_a_batch_shares_one_connection(smtp):
    with SMTPBackend.from_url(smtp.url) as backend:
        for i in range(3):
            backend.send(mail(to=f"r{i}@example.com", key=f"k{i}"))
    assert smtp.box.count() == 3 and smtp.box.connections == 1


def test_the_same_key_gives_the_same_message_id_and_lines_starting_with_a_dot_survive(smtp):
    odd = build_message(key="k", sender="a@shop.example", to="b@example.com", subject="s", html="<p>x</p>",
                        text=".hidden line\n..two dots\n", now=NOW, domain="shop.example")
    with SMTPBackend.from_url(smtp.url) as backend:
        backend.send(odd)
    assert smtp.box.received[0].message.get_body(("plain",)).get_content().replace("\r\n", "\n") == \
        ".hidden line\n..two dots\n"
    assert mail(key="x")["Message-ID"] == mail(key="x")["Message-ID"] != mail(key="y")["Message-ID"]


@pytest.mark.parametrize("where, reply, error", [
    ("refuse_rcpt", "450 4.2.1 mailbox busy", TemporaryFailure),
    ("refuse_rcpt", "550 5.1.1 no such user", PermanentFailure),
    ("refuse_data", "554 5.7.1 message refused", PermanentFailure),
    ("refuse_data", "451 4.3.0 local error", TemporaryFailure),
])
def test_refusals_are_classified_by_their_code(smtp, where, reply, error):
    setattr(smtp.box, where, reply)
    with SMTPBackend.from_url(smtp.url) as backend:
        with pytest.raises(error) as caught:
            backend.send(mail())
        assert caught.value.code == int(reply[:3]) and reply[4:] in str(caught.value)
        setattr(smtp.box, where, None)
        backend.send(mail())  # the connection carries on after RSET
    assert smtp.box.count() == 1 and smtp.box.connections == 1


def test_no_server_is_a_temporary_failure():
    with SMTPBackend.from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2") as backend:
        with pytest.raises(TemporaryFailure):
            backend.send(mail())


def test_a_server_that_vanishes_after_the_message_makes_it_ambiguous():
    """A fake server that reads the whole message, then hangs up without a reply (RFC 1047)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        stream = conn.makefile("rwb")

        def say(line: str) -> None:
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        say("220 fake ESMTP")
        while True:
            line = stream.readline().decode().strip().upper()
            if line.startswith("EHLO"):
                say("250 fake")
            elif line.startswith(("MAIL", "RCPT")):
                say("250 OK")
            elif line == "DATA":
                say("354 go ahead")
                while stream.readline() not in (b".\r\n", b""):
                    pass
                conn.close()  # the message is in, the reply never comes
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with SMTPBackend.from_url(f"smtp://127.0.0.1:{port}?timeout=5") as backend:
        with pytest.raises(AmbiguousFailure):
            backend.send(mail())
    thread.join(5)
    listener.close()


def test_an_idle_connection_closed_by_the_server_is_reopened_once(smtp):
    with SMTPBackend.from_url(smtp.url) as backend:
        backend.send(mail(key="a"))
        backend._conn.sock.shutdown(socket.SHUT_RDWR)  # the server's idle timeout, as the client sees it
        backend.send(mail(key="b"))
    assert smtp.box.count() == 2 and smtp.box.connections == 2


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_auth_over_a_server_that_requires_it():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.engine_support import Mailbox, _Handler

    def authenticate(server, session, envelope, mechanism, data):  # type: ignore[no-untyped-def]
        return AuthResult(success=(data.login, data.password) == (b"shop", b"s3cr:t"))

    box = Mailbox()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                            auth_required=True, auth_require_tls=False,
                            # smtplib sends LOGIN with an initial response aiosmtpd does not take
                            auth_exclude_mechanism=["LOGIN"])
    controller.start()
    try:
        with SMTPBackend.from_url(f"smtp://shop:s3cr%3At@127.0.0.1:{controller.port}") as backend:
            backend.send(mail())
        assert box.count() == 1
    finally:
        controller.stop()


def test_the_outbox_writes_one_parseable_file_per_message_atomically(tmp_path: Path):
    backend = OutboxBackend(tmp_path / "outbox")
    with backend:
        names = [backend.send(mail(key=f"k{i}")) for i in range(3)]
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == sorted(names) and all(f.suffix == ".eml" for f in files)
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Witaj, Zoë" and parsed.get_body(("html",)) is not None


def test_a_header_with_a_line_break_is_refused():
    with pytest.raises(ValueError, match="one line"):
        mail(subject="Hi\r\nBcc: everyone@example.com")


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example", ("mail.example", 25, False, False, None)),
    ("smtp://u%40x:p%2Fw@mail.example:587?starttls=1", ("mail.example", 587, False, True, "u@x")),
    ("smtp+starttls://mail.example", ("mail.example", 587, False, True, None)),
    ("smtps://mail.example", ("mail.example", 465, True, False, None)),
])
def test_smtp_urls(url, expected):
    s = parse_smtp_url(url)
    assert (s.host, s.port, s.implicit_tls, s.starttls, s.username) == expected


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "smtp://host:notaport", "smtp://h?timeout=x"])
def test_bad_smtp_urls_say_what_is_wrong(url):
    with pytest.raises(ConfigError, match="SMTP_URL"):
        parse_smtp_url(url)


def test_the_send_rate_is_shared_through_redis(redis_url):
    import time

    from app.mail.ratelimit import SendRateLimiter

    first, second = SendRateLimiter(redis_url, 5, name="test:rate"), SendRateLimiter(redis_url, 5, name="test:rate")
    began = time.monotonic()
    assert all(limiter.acquire(timeout=0) for limiter in (first, second, first, second, first))
    assert not second.acquire(timeout=0)  # the window is full for every worker
    assert second.acquire(timeout=3) and time.monotonic() - began >= 0.5
    assert SendRateLimiter(redis_url, 0).acquire(timeout=0)  # 0: no limit
