"""The MIME message of one email: both parts, and the headers receivers rely on."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

# CRLF line ends as on the wire; long headers (an unsubscribe URL) stay on one line
# instead of being folded at 78 characters, as RFC 5322 allows up to 998.
_POLICY = SMTP.clone(max_line_length=998)


def message_id_for(key: str, domain: str) -> str:
    """Derived from the ledger key: a re-sent message carries the same id, so receivers spot it."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(*, key: str, sender: str, to: str, subject: str, html: str, text: str,
                  now: datetime, domain: str, list_unsubscribe: str | None = None,
                  one_click: bool = False, headers: Mapping[str, str] | None = None) -> EmailMessage:
    """multipart/alternative (text, then HTML) with Message-ID, Date and List-Unsubscribe."""
    fields = {"From": sender, "To": to, "Subject": subject, **(headers or {})}
    if list_unsubscribe:
        fields["List-Unsubscribe"] = f"<{list_unsubscribe}>"
        if one_click:
            fields["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    for name, value in fields.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} must be one line")
    message = EmailMessage(policy=_POLICY)
    for name, value in fields.items():
        message[name] = value
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id_for(key, domain)
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message
