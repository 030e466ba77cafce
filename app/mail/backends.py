"""Where mail goes: an SMTP server, or an outbox folder (the default, one .eml per message).

A backend is used as a context manager around a delivery batch, so one SMTP
connection carries the whole batch. `send` returns a provider id and raises
the error class that tells the ledger what to do: retry, give up, or mark the
message ambiguous because the server may have it.
"""
from __future__ import annotations

import copy
import os
import re
import secrets
import smtplib
import ssl
import tempfile
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol, Self

from app.mail.errors import AmbiguousFailure, PermanentFailure, TemporaryFailure
from app.mail.message import OutgoingMessage
from app.mail.smtp_url import SMTPSettings, parse_smtp_url

if TYPE_CHECKING:
    from app.config import Settings

#: Characters of a provider id kept: the ledger column holds 255.
PROVIDER_ID_MAX = 255
_LEADING_DOT = re.compile(rb"(?m)^\.")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._@-]+")


#: What a backend sends: a message built by `build_message`, or any standard-library message.
Mail = OutgoingMessage | EmailMessage


class MailBackend(Protocol):
    def open(self) -> None: ...
    def send(self, message: Mail) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> MailBackend: ...
    def __exit__(self, *exc: object) -> None: ...


class _Managed:
    """`with backend:` opens once and closes once, around a whole batch."""

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OutboxBackend(_Managed):
    """One .eml file per message, written atomically: a reader never sees half a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: Mail) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")  # sorts by time of writing
        message_id = message.message_id if isinstance(message, OutgoingMessage) else message["Message-ID"]
        ident = _UNSAFE_NAME.sub("_", str(message_id or "no-id").strip("<> "))[:80]
        # The same message may be written twice (a transactional re-send): the suffix keeps both.
        name = f"{stamp}-{ident}-{secrets.token_hex(3)}.eml"
        temp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # A dot-name in the same folder: os.replace is atomic only within one file system,
            # and outbox readers skip hidden files.
            handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".writing-", suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(_wire_bytes(message))
            os.replace(temp, self.folder / name)
        except OSError as exc:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)
            raise TemporaryFailure(f"cannot write to the outbox {self.folder}: {exc}") from None
        return name


class _Closed(Exception):
    """The connection went away (or said 421) before the payload: nothing was accepted."""

    def __init__(self, text: str, code: int | None = None) -> None:
        super().__init__(text)
        self.code = code


class SMTPBackend(_Managed):
    """smtplib, driven command by command, so a failure before the payload is told from one after it.

    One connection carries every message of a batch. It opens on the first send, not
    in `open()`, so a batch whose messages are all suppressed never dials the server.
    """

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

    def send(self, message: Mail) -> str:
        sender, recipients, payload = _envelope_of(message)
        while True:
            reused = self._conn is not None
            try:
                self._envelope(sender, recipients)
                break
            except _Closed as exc:
                self._drop()
                # A reused connection may have been closed by the server while idle:
                # nothing was accepted, so one more try on a fresh connection is safe.
                if not reused:
                    raise TemporaryFailure(f"connection lost before the message was sent: {exc}",
                                           exc.code) from None
        return self._data(payload)

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
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"cannot connect to {s.host}:{s.port}: {exc}",
                                   getattr(exc, "smtp_code", None)) from None
        try:
            self._greet(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _greet(self, conn: smtplib.SMTP) -> None:
        s = self.settings
        try:
            conn.ehlo_or_helo_if_needed()
            if s.starttls:
                if not conn.has_extn("starttls"):  # never fall back to sending in clear
                    raise TemporaryFailure(f"{s.host}:{s.port} does not offer STARTTLS, "
                                           "which SMTP_URL requires; nothing was sent")
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            text = f"SMTP authentication as {s.username!r} failed: {exc.smtp_code} {_text(exc.smtp_error)}"
            # Temporary even for 535: the credentials are ours, not the recipient's; once the
            # operator fixes SMTP_URL the queued mail should go, not be failed for good.
            raise TemporaryFailure(text, exc.smtp_code) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TemporaryFailure(f"{s.host}:{s.port}: {exc} (does it offer AUTH only over TLS?)") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"{s.host}:{s.port} refused the session: {exc}",
                                   getattr(exc, "smtp_code", None)) from None

    def _envelope(self, sender: str, recipients: list[str]) -> None:
        """MAIL, RCPT and DATA up to the server's 354: nothing can be delivered yet."""
        conn = self._connection()
        try:
            # docmd, not mail()/rcpt(): those parse each address again; ours are bare already.
            self._expect(conn.docmd("MAIL", f"FROM:<{sender}>"), (250,), "MAIL FROM")
            for address in recipients:
                self._expect(conn.docmd("RCPT", f"TO:<{address}>"), (250, 251), f"RCPT TO <{address}>")
            self._expect(conn.docmd("DATA"), (354,), "DATA")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:  # smtplib turns timeouts into these
            raise _Closed(str(exc)) from None

    def _expect(self, reply: tuple[int, bytes], accepted: tuple[int, ...], stage: str) -> None:
        code, text = reply
        if code in accepted:
            return
        if code == 421:  # the server is closing the channel (often an idle timeout)
            raise _Closed(f"{stage}: 421 {_text(text)}", code)
        self._refused(code, text, stage)

    def _data(self, payload: bytes) -> str:
        conn = self._connection()
        try:
            conn.send(payload)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # sendall failed, so the final "." never left this machine: the server cannot
            # have accepted a message it never saw end (RFC 5321), and a retry is safe.
            self._drop()
            raise TemporaryFailure(f"connection lost while sending the message: {exc}") from None
        try:
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise AmbiguousFailure(f"the message was sent but the server's reply never came: {exc}") from None
        if 200 <= code < 300:  # 250 is the rule; any 2xx still means the server took it
            return f"{code} {_text(reply)}"[:PROVIDER_ID_MAX]
        if code < 400 or code >= 600:
            self._drop()
            raise AmbiguousFailure(f"the server answered the message with {code} {_text(reply)}", code)
        self._refused(code, reply, "end of DATA")

    def _refused(self, code: int, reply: bytes, stage: str) -> NoReturn:
        """A clear 4xx/5xx refusal; anything else means the session is confused, so drop it."""
        text = f"{stage}: {code} {_text(reply)}"
        if not 400 <= code < 600:
            self._drop()
            raise TemporaryFailure(f"unexpected reply, {text}", code if code > 0 else None)
        self._reset()
        raise (TemporaryFailure if code < 500 else PermanentFailure)(text, code)

    def _reset(self) -> None:
        # After a clean refusal the session is sound: RSET clears the envelope so the
        # rest of the batch keeps the connection. Anything but 250 and we start over.
        try:
            if self._conn is not None and self._conn.rset()[0] == 250:
                return
        except (smtplib.SMTPException, OSError):
            pass
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _envelope_of(message: Mail) -> tuple[str, list[str], bytes]:
    """Sender, recipients and the dot-stuffed payload, as smtplib.send_message would take them."""
    if isinstance(message, OutgoingMessage):
        sender, recipients = message.sender, [r for r in message.recipients if r]
    else:
        sender = parseaddr(str(message["Sender"] or message["From"] or ""))[1]
        recipients = [address for _, address in getaddresses(
            [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]) if address]
    if not sender or not recipients:
        raise PermanentFailure("the message has no sender or no recipient address")
    if not all(address.isascii() for address in (sender, *recipients)):
        # Would need SMTPUTF8, which we do not negotiate: no retry can fix it.
        raise PermanentFailure(f"non-ASCII address among {sender}, {', '.join(recipients)}")
    if isinstance(message, EmailMessage) and message["Bcc"] is not None:  # the envelope, never the headers
        message = _copy_without(message, "Bcc")
    payload = _LEADING_DOT.sub(b"..", _wire_bytes(message))
    return sender, recipients, payload + b".\r\n"


def _wire_bytes(message: Mail) -> bytes:
    if isinstance(message, OutgoingMessage):
        return message.data
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _copy_without(message: EmailMessage, header: str) -> EmailMessage:
    clone = copy.copy(message)  # shallow is enough: deleting a header rebinds the header list
    del clone[header]
    return clone


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


BACKENDS: dict[str, type[SMTPBackend] | type[OutboxBackend]] = {"smtp": SMTPBackend, "outbox": OutboxBackend}


def backend_from_settings(settings: Settings) -> MailBackend:
    """SMTP when SMTP_URL is set, else the outbox folder under the instance."""
    if settings.smtp_url:
        return SMTPBackend.from_url(settings.smtp_url)
    return OutboxBackend(settings.outbox_path)
