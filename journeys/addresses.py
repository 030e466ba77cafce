"""Email addresses: one rule for what counts as an address, everywhere.

Syntax only (email-validator without DNS): the core does no I/O, and whether a
mailbox exists is the mail server's answer, recorded as a bounce.
"""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from journeys.errors import AddressError

MAX_LENGTH = 320


def parse_address(raw: object) -> str:
    """The normalised address (trimmed, lower-cased), or AddressError with the reason."""
    if not isinstance(raw, str) or not raw.strip():
        raise AddressError("an email address is required")
    text = raw.strip()
    if len(text) > MAX_LENGTH:
        raise AddressError(f"{text[:40]!r}… is longer than {MAX_LENGTH} characters")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressError(f"{text!r} is not an email address: {exc}") from None
    return checked.normalized.lower()
