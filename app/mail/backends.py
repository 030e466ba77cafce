"""Where mail goes: an SMTP server, or an outbox folder (the default, one .eml per message).

A backend is used as a context manager around a delivery batch, so one SMTP
connection carries the whole batch. `send` returns a provider id and raises
the error class that tells the ledger what to do: retry, give up, or mark the
message ambiguous because the server may have it.
"""
from __future__ import annotations

import hashlib
import os
import re
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from app.mail.errors import AmbiguousFailure, ConfigError, PermanentFailure, TemporaryFailure

_LEADING_DOT = re.compile(rb"(?m)^\.")
_SCHEMES = {"smtp": (25, False), "smtp+starttls": (587, False), "smtps": (465, True)}


class MailBackend(Protocol):
    def open(self) -> None: ...
    def send(self, message: EmailMessage) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> MailBackend: ...
    def __exit__(self, *exc: object) -> None: ...


class _Managed:
    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):  # type: ignore[no-untyped-def]
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class OutboxBackend(_Managed):
    """One .eml file per message, written atomically: a reader never sees half a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        ident = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:16]
        stamp = re.sub(r"\D", "", str(message["Date"] or ""))[:14] or "0"
        name = f"{_sortable_now()}-{stamp}-{ident}.eml"
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".writing-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(bytes(message))
            os.replace(temp, self.folder / name)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            raise TemporaryFailure(f"cannot write to the outbox {self.folder}: {exc}") from exc
        return name


def _sortable_now() -> str:
    import time

    return f"{time.time_ns():020d}"


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


def parse_smtp_url(url: str) -> SMTPSettings:
    """`smtp://[user:pass@]host[:port][?starttls=1&timeout=30]`, `smtp+starttls://…`, `smtps://…`."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ConfigError(f"SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, not {url.split(':')[0]!r}")
    if not parts.hostname:
        raise ConfigError("SMTP_URL names no host (smtp://host:587)")
    default_port, implicit = _SCHEMES[parts.scheme]
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        port = parts.port or default_port
        timeout = float(query.get("timeout", 30))
    except ValueError as exc:
        raise ConfigError(f"SMTP_URL: {exc}") from None
    starttls = parts.scheme == "smtp+starttls" or query.get("starttls", "").lower() in ("1", "true", "yes")
    return SMTPSettings(parts.hostname, port, implicit, starttls and not implicit,
                        unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None, timeout)


class SMTPBackend(_Managed):
    """smtplib, driven step by step so a failure before DATA is told from one after it."""

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def from_url(cls, url: str) -> SMTPBackend:
        return cls(parse_smtp_url(url))

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def send(self, message: EmailMessage) -> str:
        sender = parseaddr(str(message["From"]))[1]
        recipients = [a for _, a in getaddresses([str(v) for v in message.get_all("To", [])]) if a]
        reused = self._conn is not None
        try:
            self._envelope(sender, recipients)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self._drop()
            if not reused:
                raise TemporaryFailure("the server closed the connection before DATA") from None
            try:  # an idle connection timed out: once more, on a fresh one
                self._envelope(sender, recipients)
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                self._drop()
                raise TemporaryFailure(f"the server closed the connection before DATA: {exc}") from None
        return self._data(message)

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        s = self.settings
        try:
            if s.implicit_tls:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                      context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            conn.ehlo()
            if s.starttls:
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise TemporaryFailure(f"{s.host} does not offer STARTTLS; refusing to send in clear")
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(f"SMTP authentication failed: {exc.smtp_code} {_text(exc.smtp_error)}",
                                   exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"cannot connect to {s.host}:{s.port}: {exc}") from None
        self._conn = conn
        return conn

    def _envelope(self, sender: str, recipients: list[str]) -> None:
        conn = self._connection()
        try:
            code, reply = conn.mail(sender)
            if code != 250:
                self._refused(code, reply, "MAIL FROM")
            for address in recipients:
                code, reply = conn.rcpt(address)
                if code not in (250, 251):
                    self._refused(code, reply, f"RCPT TO {address}")
            conn.putcmd("data")
            code, reply = conn.getreply()
            if code != 354:
                self._refused(code, reply, "DATA")
        except (socket.timeout, TimeoutError) as exc:
            self._drop()
            raise TemporaryFailure(f"the server did not answer before DATA: {exc}") from None

    def _data(self, message: EmailMessage) -> str:
        conn = self._connection()
        payload = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        payload = _LEADING_DOT.sub(b"..", payload)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        try:
            conn.send(payload + b".\r\n")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()  # the final dot did not go out whole: the server cannot have accepted it
            raise TemporaryFailure(f"connection lost while sending the message: {exc}") from None
        try:
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise AmbiguousFailure(f"no reply after the message was sent: {exc}") from None
        if code != 250:
            self._refused(code, reply, "end of DATA")
        return f"{code} {_text(reply)}"

    def _refused(self, code: int, reply: bytes, stage: str) -> None:
        text = f"{stage}: {code} {_text(reply)}"
        self._reset()
        if 400 <= code < 500:
            raise TemporaryFailure(text, code)
        if code == -1 or code < 400:
            self._drop()
            raise TemporaryFailure(text, code)
        raise PermanentFailure(text, code)

    def _reset(self) -> None:
        # After a refusal the connection can carry the next message once RSET clears the envelope.
        try:
            if self._conn is not None:
                self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


BACKENDS = {"smtp": SMTPBackend, "outbox": OutboxBackend}


def backend_from_settings(settings) -> MailBackend:  # type: ignore[no-untyped-def]
    """SMTP when SMTP_URL is set, else the outbox folder under the instance."""
    if settings.smtp_url:
        return SMTPBackend.from_url(settings.smtp_url)
    return OutboxBackend(settings.outbox_path)
