"""The MIME message of one email: both parts, and the headers receivers rely on."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

# CRLF line ends, as on the wire; a long header (an unsubscribe URL) is folded only
# past 998 characters, the RFC 5322 hard limit, not at 78, so links stay whole.
# 7bit: non-ASCII bodies go quoted-printable or base64, as we never negotiate 8BITMIME.
_POLICY = SMTP.clone(max_line_length=998, cte_type="7bit")

# RFC 5322 field names: printable ASCII except the colon.
_FIELD_NAME = re.compile(r"[!-9;-~]+")

# Headers this module owns: a caller's extra headers may not replace them, or a
# template setting could change the recipient (Bcc) or break the re-send guarantee.
_MANAGED = frozenset(name.lower() for name in (
    "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version",
    "Content-Type", "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post",
))


def message_id_for(key: str, domain: str) -> str:
    """Derived from the ledger key: a re-sent message carries the same id, so receivers spot it."""
    _one_line("Message-ID domain", domain)
    if not domain or any(c in domain for c in " <>@"):
        raise ValueError(f"{domain!r} cannot be the domain of a Message-ID")
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(*, key: str, sender: str, to: str, subject: str, html: str, text: str,
                  now: datetime, domain: str, list_unsubscribe: str | None = None,
                  one_click: bool = False, headers: Mapping[str, str] | None = None) -> EmailMessage:
    """multipart/alternative (text first, then HTML) with Message-ID, Date and List-Unsubscribe.

    `one_click` adds the RFC 8058 header that lets mailbox providers unsubscribe
    with a POST; it means nothing without `list_unsubscribe`. Raises ValueError
    for a header value that spans lines (header injection) or a bad extra header.
    """
    fields = {"From": sender, "To": to, "Subject": subject}
    if list_unsubscribe:
        fields["List-Unsubscribe"] = f"<{list_unsubscribe}>"
        if one_click:
            fields["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in (headers or {}).items():
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() in _MANAGED:
            raise ValueError(f"header {name} is set by build_message, not by the caller")
        fields[name] = value
    for name, value in fields.items():
        _one_line(name, value)
    message = EmailMessage(policy=_POLICY)
    for name, value in fields.items():
        message[name] = value
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id_for(key, domain)
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def _one_line(name: str, value: str) -> None:
    # CR and LF are the injection; the other characters splitlines() breaks on
    # (NEL, U+2028 …) can become line breaks in a mail client, so they go too.
    if "\r" in value or "\n" in value or "\x00" in value or len(value.splitlines()) > 1:
        raise ValueError(f"header {name} must be one line: it contains a line break")
