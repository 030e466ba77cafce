"""The MIME message of one email: both parts, and the headers receivers rely on.

The wire bytes are written here directly rather than through `email.message`:
the standard library's header registry parses and re-folds every header, which
cost more than a millisecond per message and capped fan-out. The structure is
always the same (multipart/alternative, text then HTML), so writing it is
short; receivers and tests parse it back with the standard library.
"""
from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

# RFC 5322 hard limit on a line, CRLF excluded. We fold only past it, not at 78,
# so a long unsubscribe URL stays whole.
MAX_LINE = 998

# RFC 5322 field names: printable ASCII except the colon.
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_LINE_ENDS = re.compile(r"\r\n|\r|\n")

# Headers this module owns: a caller's extra headers may not replace them, or a
# template setting could change the recipient (Bcc) or break the re-send guarantee.
_MANAGED = frozenset(name.lower() for name in (
    "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version",
    "Content-Type", "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post",
))


@dataclass(frozen=True)
class OutgoingMessage:
    """A message ready for the wire: its envelope and its bytes (CRLF line ends, 7-bit)."""
    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes
    _parsed: list[EmailMessage] = field(default_factory=list, repr=False, compare=False)

    def as_bytes(self) -> bytes:
        return self.data

    def email(self) -> EmailMessage:
        """The message parsed back, as a receiver sees it (for inspection, not for sending)."""
        if not self._parsed:
            self._parsed.append(message_from_bytes(self.data, policy=policy.default))  # type: ignore[arg-type]
        return self._parsed[0]

    def __getitem__(self, name: str) -> str | None:
        return self.email()[name]


def message_id_for(key: str, domain: str) -> str:
    """Derived from the ledger key: a re-sent message carries the same id, so receivers spot it."""
    _one_line("Message-ID domain", domain)
    if not domain or any(c in domain for c in " <>@"):
        raise ValueError(f"{domain!r} cannot be the domain of a Message-ID")
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(*, key: str, sender: str, to: str, subject: str, html: str, text: str,
                  now: datetime, domain: str, list_unsubscribe: str | None = None,
                  one_click: bool = False, headers: Mapping[str, str] | None = None) -> OutgoingMessage:
    """multipart/alternative (text first, then HTML) with Message-ID, Date and List-Unsubscribe.

    `one_click` adds the RFC 8058 header that lets mailbox providers unsubscribe
    with a POST; it means nothing without `list_unsubscribe`. Raises ValueError
    for a header value that spans lines (header injection) or a bad extra header.
    """
    extra = dict(headers or {})
    for name, value in extra.items():
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() in _MANAGED:
            raise ValueError(f"header {name} is set by build_message, not by the caller")
    for name, value in (("From", sender), ("To", to), ("Subject", subject), *extra.items()):
        _one_line(name, value)
    if list_unsubscribe is not None:
        _one_line("List-Unsubscribe", list_unsubscribe)
    message_id = message_id_for(key, domain)
    boundary = "=_" + hashlib.sha256(f"{key}|{now.isoformat()}".encode()).hexdigest()[:40]
    lines = [
        _address_field("From", sender),
        _address_field("To", to),
        _text_field("Subject", subject),
        f"Date: {format_datetime(now)}",
        f"Message-ID: {message_id}",
    ]
    if list_unsubscribe:
        lines.append(_text_field("List-Unsubscribe", f"<{list_unsubscribe}>"))
        if one_click:
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    lines += [_text_field(name, value) for name, value in extra.items()]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', "", ""]
    data = b"".join([
        "\r\n".join(lines).encode("ascii"),
        _part(boundary, "plain", text),
        _part(boundary, "html", html),
        f"--{boundary}--\r\n".encode("ascii"),
    ])
    return OutgoingMessage(_address(sender), (_address(to),), message_id, data)


def _part(boundary: str, subtype: str, content: str) -> bytes:
    body = _LINE_ENDS.sub("\r\n", content)
    if not body.endswith("\r\n"):
        body += "\r\n"
    raw = body.encode("utf-8")
    if raw.isascii() and boundary.encode() not in raw and all(len(line) <= MAX_LINE for line in raw.split(b"\r\n")):
        encoding, payload = "7bit", raw
    else:  # never 8bit: we do not negotiate 8BITMIME, so the wire stays 7-bit
        encoding, payload = "quoted-printable", binascii.b2a_qp(raw, istext=True)
    head = (f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n")
    # The CRLF before the next delimiter belongs to the delimiter (RFC 2046), not to the content.
    return head.encode("ascii") + payload + b"\r\n"


def _text_field(name: str, value: str) -> str:
    line = f"{name}: {value}"
    if value.isascii() and len(line) <= MAX_LINE:
        return line
    # RFC 2047 encoded words (or folding, for an over-long ASCII value).
    charset = "us-ascii" if value.isascii() else "utf-8"
    encoded = Header(value, charset, header_name=name, maxlinelen=MAX_LINE if value.isascii() else 76)
    return f"{name}: {encoded.encode(linesep=chr(13) + chr(10))}"


@lru_cache(maxsize=64)  # the sender is the same on every message of a batch
def _address_field(name: str, value: str) -> str:
    display, address = parseaddr(value)
    if not address:
        return _text_field(name, value)
    if not address.isascii():
        # SMTPUTF8 is not negotiated: the backend refuses to send this; the header stays 7-bit.
        return _text_field(name, value)
    return f"{name}: {formataddr((display, address), charset='utf-8')}"


@lru_cache(maxsize=64)
def _address(value: str) -> str:
    return parseaddr(value)[1]


def _one_line(name: str, value: str) -> None:
    # CR and LF are the injection; the other characters splitlines() breaks on
    # (NEL, U+2028 …) can become line breaks in a mail client, so they go too.
    if "\r" in value or "\n" in value or "\x00" in value or len(value.splitlines()) > 1:
        raise ValueError(f"header {name} must be one line: it contains a line break")
