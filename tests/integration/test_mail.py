"""Mail backends against a real SMTP server in the process: what arrives, and what each refusal means.

The server is aiosmtpd's, on a free port, with a handler that records what it
accepted and can be told to refuse; nothing about SMTP is mocked.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from app.mail import (AmbiguousFailure, ConfigError, OutboxBackend, OutgoingMessage, PermanentFailure, SMTPBackend,
                      TemporaryFailure, backend_from_settings, build_message, message_id_for, parse_smtp_url)
from app.mail.ratelimit import SendRateLimiter, storage_uri

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Mailbox:
    """What the server accepted, how many sessions it saw, and the refusals it should give."""
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    refuse_mail: str | None = None
    refuse_rcpt: str | None = None
    refuse_data: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        with self.box.lock:  # one EHLO per session (STARTTLS aside, unused here)
            self.box.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        refusal, self.box.refuse_mail = self.box.refuse_mail, None  # refuse once
        if refusal:
            return refusal
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if self.box.refuse_rcpt:
            return self.box.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.box.refuse_data:
            return self.box.refuse_data
        raw = envelope.original_content
        with self.box.lock:
            self.box.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                              message_from_bytes(raw, policy=policy.default), raw))
        return "250 2.0.0 Ok: queued as TEST1"


@dataclass
class Server:
    box: Mailbox
    controller: Controller
    running: bool = True

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(request: pytest.FixtureRequest, **options: Any) -> Server:
    box = Mailbox()
    controller = Controller(Handler(box), hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    server = Server(box, controller)
    request.addfinalizer(server.stop)
    return server


@pytest.fixture
def smtp(request: pytest.FixtureRequest) -> Server:
    return start_server(request)


def mail(to: str = "zoe@example.com", key: str = "7:hello:1", subject: str = "Witaj, Zoë",
         **extra: Any) -> OutgoingMessage:
    return build_message(key=key, sender="Shop <news@shop.example>", to=to, subject=subject,
                         html="<p>Hello <b>Zoë</b></p>", text="Hello Zoë\n", now=NOW, domain="shop.example",
                         list_unsubscribe="https://j.example/u/TOKEN", one_click=True, **extra)


# -- what arrives ------------------------------------------------------------------------------

def test_a_message_arrives_with_both_parts_and_the_headers(smtp: Server) -> None:
    with SMTPBackend.from_url(smtp.url) as backend:
        reply = backend.send(mail())
    assert reply == "250 2.0.0 Ok: queued as TEST1"
    [got] = smtp.box.received
    assert got.sender == "news@shop.example" and got.recipients == ["zoe@example.com"]
    message = got.message
    assert message["From"] == "Shop <news@shop.example>" and message["To"] == "zoe@example.com"
    assert message["Subject"] == "Witaj, Zoë"
    assert message["Message-ID"] == message_id_for("7:hello:1", "shop.example")
    assert message["Date"] == "Tue, 01 Dec 2026 09:00:00 +0000"
    assert message["List-Unsubscribe"] == "<https://j.example/u/TOKEN>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] is None
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.get_body(("plain",)).get_content().strip() == "Hello Zoë"
    assert "<b>Zoë</b>" in message.get_body(("html",)).get_content()
    assert got.raw.isascii(), "we never negotiate 8BITMIME, so the wire stays 7-bit"


def test_the_message_id_follows_the_key() -> None:
    assert mail(key="x")["Message-ID"] == mail(key="x")["Message-ID"] != mail(key="y")["Message-ID"]
    assert message_id_for("x", "shop.example").endswith("@shop.example>")


def test_lines_starting_with_a_dot_survive(smtp: Server) -> None:
    odd = build_message(key="k", sender="a@shop.example", to="b@example.com", subject="s", html="<p>x</p>",
                        text=".hidden line\n..two dots\n.\n", now=NOW, domain="shop.example")
    with SMTPBackend.from_url(smtp.url) as backend:
        backend.send(odd)
    body = smtp.box.received[0].message.get_body(("plain",)).get_content()
    assert body.replace("\r\n", "\n") == ".hidden line\n..two dots\n.\n"


def test_bcc_goes_to_the_envelope_not_the_headers(smtp: Server) -> None:
    message = mail().email()  # any standard-library message may be sent, Bcc and all
    message["Bcc"] = "audit@shop.example"
    with SMTPBackend.from_url(smtp.url) as backend:
        backend.send(message)
    [got] = smtp.box.received
    assert got.recipients == ["zoe@example.com", "audit@shop.example"] and got.message["Bcc"] is None


def test_a_batch_shares_one_connection(smtp: Server) -> None:
    with SMTPBackend.from_url(smtp.url) as backend:
        for i in range(3):
            backend.send(mail(to=f"r{i}@example.com", key=f"k{i}"))
    assert len(smtp.box.received) == 3 and smtp.box.connections == 1


# -- refusals and broken connections -------------------------------------------------------------

@pytest.mark.parametrize("where, reply, error", [
    ("refuse_rcpt", "450 4.2.1 mailbox busy", TemporaryFailure),
    ("refuse_rcpt", "550 5.1.1 no such user", PermanentFailure),
    ("refuse_data", "554 5.7.1 message refused", PermanentFailure),
    ("refuse_data", "451 4.3.0 local error", TemporaryFailure),
    ("refuse_mail", "553 5.7.1 sender not allowed", PermanentFailure),
])
def test_refusals_are_classified_by_their_code(smtp: Server, where: str, reply: str, error: type) -> None:
    setattr(smtp.box, where, reply)
    with SMTPBackend.from_url(smtp.url) as backend:
        with pytest.raises(error) as caught:
            backend.send(mail())
        assert caught.value.code == int(reply[:3]) and reply[4:] in str(caught.value)
        setattr(smtp.box, where, None)
        backend.send(mail())  # RSET cleared the refused envelope: the session carries on
    assert len(smtp.box.received) == 1 and smtp.box.connections == 1


def test_no_server_is_a_temporary_failure() -> None:
    with SMTPBackend.from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2") as backend:
        with pytest.raises(TemporaryFailure, match="cannot connect"):
            backend.send(mail())


def test_a_server_stopped_before_sending_is_a_temporary_failure(request: pytest.FixtureRequest) -> None:
    server = start_server(request)
    backend = SMTPBackend.from_url(server.url + "?timeout=2")
    with backend:
        backend.send(mail(key="a"))
    # Stopped between two batches (a server stopped under an open session leaves
    # aiosmtpd's side of it unclosed; the idle-close case is the reconnect test's).
    server.stop()
    with backend:
        with pytest.raises(TemporaryFailure, match="cannot connect"):
            backend.send(mail(key="b"))
    assert len(server.box.received) == 1


def test_an_idle_connection_closed_by_the_server_is_reopened_once(smtp: Server) -> None:
    with SMTPBackend.from_url(smtp.url) as backend:
        backend.send(mail(key="a"))
        backend._conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]  # the idle timeout, as we see it
        backend.send(mail(key="b"))
    assert len(smtp.box.received) == 2 and smtp.box.connections == 2


def test_a_421_on_mail_from_a_reused_connection_reconnects(smtp: Server) -> None:
    with SMTPBackend.from_url(smtp.url) as backend:
        backend.send(mail(key="a"))
        smtp.box.refuse_mail = "421 4.4.2 idle for too long, closing"
        backend.send(mail(key="b"))
    assert len(smtp.box.received) == 2 and smtp.box.connections == 2


def test_starttls_required_but_not_offered_sends_nothing(smtp: Server) -> None:
    with SMTPBackend.from_url(smtp.url.replace("smtp://", "smtp+starttls://")) as backend:
        with pytest.raises(TemporaryFailure, match="STARTTLS"):
            backend.send(mail())
    assert smtp.box.received == []


def test_a_non_ascii_address_is_refused_before_connecting() -> None:
    with SMTPBackend.from_url(f"smtp://127.0.0.1:{free_port()}") as backend:
        with pytest.raises(PermanentFailure, match="non-ASCII"):
            backend.send(mail(to="zoë@example.com"))


def test_a_server_that_vanishes_after_the_message_makes_it_ambiguous() -> None:
    """A fake server that reads the whole message, then hangs up without a reply (RFC 1047)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    got_message = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        stream = conn.makefile("rwb")

        def say(line: str) -> None:
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        say("220 fake ESMTP")
        while line := stream.readline().decode().strip().upper():
            if line.startswith("EHLO"):
                say("250 fake")
            elif line.startswith(("MAIL", "RCPT")):
                say("250 OK")
            elif line == "DATA":
                say("354 go ahead")
                while stream.readline() not in (b".\r\n", b""):
                    pass
                got_message.set()
                break  # the message is in; the reply never comes
        stream.close()
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with SMTPBackend.from_url(f"smtp://127.0.0.1:{port}?timeout=5") as backend:
            with pytest.raises(AmbiguousFailure):
                backend.send(mail())
        assert got_message.is_set()
    finally:
        thread.join(5)
        listener.close()


# -- authentication --------------------------------------------------------------------------------

def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    # handled=False: aiosmtpd then answers a failure itself, with 535.
    return AuthResult(success=(data.login, data.password) == (b"shop", b"s3cr:t"), handled=False)


# aiosmtpd warns, on every session, when AUTH is allowed without TLS: exactly this setup.
auth_without_tls = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def auth_smtp(request: pytest.FixtureRequest) -> Server:
    return start_server(request, authenticator=_authenticate, auth_required=True, auth_require_tls=False,
                        # smtplib's LOGIN sends an initial response aiosmtpd does not take
                        auth_exclude_mechanism=["LOGIN"])


@auth_without_tls
def test_smtp_auth_with_the_right_password(auth_smtp: Server) -> None:
    port = auth_smtp.controller.port
    with SMTPBackend.from_url(f"smtp://shop:s3cr%3At@127.0.0.1:{port}") as backend:  # ":" URL-encoded
        backend.send(mail())
    assert len(auth_smtp.box.received) == 1


@auth_without_tls
def test_smtp_auth_with_a_wrong_password_waits_for_the_operator(auth_smtp: Server) -> None:
    port = auth_smtp.controller.port
    with SMTPBackend.from_url(f"smtp://shop:wrong@127.0.0.1:{port}") as backend:
        with pytest.raises(TemporaryFailure) as caught:
            backend.send(mail())
    assert caught.value.code == 535 and "wrong" not in str(caught.value)
    assert auth_smtp.box.received == []


# -- the outbox --------------------------------------------------------------------------------------

def test_the_outbox_writes_one_parseable_file_per_message_atomically(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet" / "there"
    with OutboxBackend(folder) as backend:
        names = [backend.send(mail(key=f"k{i}")) for i in range(3)] + [backend.send(mail(key="k0"))]
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == sorted(names), "one file per send, no temporary files left"
    assert len(set(names)) == 4 and all(n.endswith(".eml") and "/" not in n for n in names)
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Witaj, Zoë" and parsed["Message-ID"] is not None
    assert parsed.get_body(("plain",)).get_content().strip() == "Hello Zoë"
    assert "<b>Zoë</b>" in parsed.get_body(("html",)).get_content()


def test_an_unwritable_outbox_is_a_temporary_failure(tmp_path: Path) -> None:
    (tmp_path / "outbox").write_text("a file where the folder should be")
    with pytest.raises(TemporaryFailure, match="outbox"):
        OutboxBackend(tmp_path / "outbox").send(mail())


def test_the_backend_follows_the_settings(settings: Any) -> None:
    assert isinstance(backend_from_settings(settings.with_overrides(smtp_url=None)), OutboxBackend)
    smtp = backend_from_settings(settings.with_overrides(smtp_url="smtps://u:p@mail.example"))
    assert isinstance(smtp, SMTPBackend) and smtp.settings.port == 465


# -- building messages -----------------------------------------------------------------------------

@pytest.mark.parametrize("extra", [
    {"subject": "Hi\r\nBcc: everyone@example.com"},
    {"subject": "Hi\nthere"},
    {"to": "zoe@example.com\rBcc: x@example.com"},
    {"subject": "Hi\u2028there"},
    {"headers": {"X-Campaign": "a\r\nb"}},
])
def test_a_header_with_a_line_break_is_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="one line"):
        mail(**extra)


@pytest.mark.parametrize("headers", [{"Bcc": "x@example.com"}, {"message-id": "<x@y>"}, {"Bad Name": "x"}])
def test_extra_headers_cannot_replace_ours_or_be_malformed(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        mail(headers=headers)


def test_extra_headers_are_kept() -> None:
    assert mail(headers={"X-Journey": "welcome"})["X-Journey"] == "welcome"


# -- SMTP_URL -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example", ("mail.example", 25, False, False, None, None, 30.0)),
    ("smtp://u%40x:p%2Fw@mail.example:587?starttls=1", ("mail.example", 587, False, True, "u@x", "p/w", 30.0)),
    ("smtp+starttls://mail.example?timeout=7.5", ("mail.example", 587, False, True, None, None, 7.5)),
    ("smtps://mail.example", ("mail.example", 465, True, False, None, None, 30.0)),
])
def test_smtp_urls(url: str, expected: tuple[Any, ...]) -> None:
    s = parse_smtp_url(url)
    assert (s.host, s.port, s.implicit_tls, s.starttls, s.username, s.password, s.timeout) == expected
    assert "p/w" not in repr(s)


@pytest.mark.parametrize("url, says", [
    ("http://mail.example", "must start with smtp://"),
    ("mail.example:25", "must start with smtp://"),
    ("smtp://", "names no host"),
    ("smtp://host:notaport", "port"),
    ("smtp://host:99999", "port"),
    ("smtp://h?timeout=x", "timeout"),
    ("smtp://h?timeout=0", "timeout"),
    ("smtp://h?starttls=maybe", "starttls"),
    ("smtp://h?timout=5", "unknown parameter 'timout'"),
    ("smtp://:secret@h", "no user name"),
])
def test_bad_smtp_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match="SMTP_URL") as caught:
        parse_smtp_url(url)
    assert says in str(caught.value) and "secret" not in str(caught.value)


# -- the shared send rate -------------------------------------------------------------------------------

def test_the_send_rate_is_shared_through_redis(redis_url: str) -> None:
    name = f"test:rate:{uuid.uuid4().hex}"
    first, second = SendRateLimiter(redis_url, 5, name=name), SendRateLimiter(redis_url, 5, name=name)
    began = time.monotonic()
    assert all(limiter.acquire(timeout=0) for limiter in (first, second, first, second, first))
    assert not second.acquire(timeout=0)  # the window is full for every worker
    assert second.acquire(timeout=3)  # … until the first send leaves the one-second window
    assert 0.9 <= time.monotonic() - began < 2.5


def test_no_limit_and_unix_socket_urls() -> None:
    assert SendRateLimiter("unix:///nowhere/redis.sock", 0).acquire(timeout=0)  # 0: no limit, no Redis
    assert storage_uri("unix:///srv/redis.sock") == "redis+unix:///srv/redis.sock"
    assert storage_uri("redis://h:6379/0") == "redis://h:6379/0"


def test_a_redis_outage_does_not_stop_delivery(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    limiter = SendRateLimiter(f"unix://{tmp_path / 'no-redis.sock'}", 5)
    with caplog.at_level(logging.WARNING, logger="app.mail.ratelimit"):
        assert limiter.acquire(timeout=0) and limiter.acquire(timeout=0)
    assert len([r for r in caplog.records if "unavailable" in r.message]) == 1


def test_long_lines_and_non_ascii_everywhere_stay_seven_bit_and_parse_back() -> None:
    html = "<p>" + "Zoë kupiła buty " * 200 + "</p>"  # one line far past 998 characters
    subject = "Zażółć gęślą jaźń — " * 8
    built = build_message(key="k", sender="Sklep Zoë <news@shop.example>", to="Zoë Ż <zoe@example.com>",
                          subject=subject, html=html, text="a=b\n" + "x" * 1200 + "\n", now=NOW,
                          domain="shop.example", list_unsubscribe="https://j.example/u/" + "T" * 900)
    assert built.data.isascii() and max(len(line) for line in built.data.split(b"\r\n")) <= 998
    assert built.sender == "news@shop.example" and built.recipients == ("zoe@example.com",)
    parsed = built.email()
    assert parsed["Subject"] == subject and parsed["From"] == "Sklep Zoë <news@shop.example>"
    assert parsed["To"] == "Zoë Ż <zoe@example.com>"
    assert parsed["List-Unsubscribe"] == "<https://j.example/u/" + "T" * 900 + ">", "the link is never folded"
    assert parsed.get_body(("html",)).get_content().strip() == html
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == "a=b\n" + "x" * 1200 + "\n"
