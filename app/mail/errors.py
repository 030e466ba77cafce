"""Mail errors, by what the ledger must do next."""
from __future__ import annotations


class MailError(Exception):
    """Base of every delivery error; `code` is the SMTP reply code when there was one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.code = code


class TemporaryFailure(MailError):
    """Nothing was accepted (4xx, or the connection failed before DATA): retry later."""


class PermanentFailure(MailError):
    """The server refused the recipient or the message (5xx): do not retry."""


class AmbiguousFailure(MailError):
    """The connection broke after the message was sent, before the server's reply (RFC 1047)."""


class ConfigError(MailError):
    """SMTP_URL does not describe a usable server."""
