"""Mail errors, one class per thing the ledger must do next.

`TemporaryFailure`: nothing was accepted, retry with backoff.
`PermanentFailure`: the server refused the recipient or the message, give up.
`AmbiguousFailure`: the message went out but the verdict never came back
(RFC 1047); the server may have it, so it must not be re-sent silently.
"""
from __future__ import annotations

from app.errors import ConfigError as AppConfigError


class MailError(Exception):
    """Base of every delivery error; `code` is the SMTP reply code when there was one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        # One line, whatever the server sent: it ends up in the ledger and in logs.
        super().__init__(" ".join(message.split()))
        self.code = code


class TemporaryFailure(MailError):
    """Nothing was accepted (4xx, or the connection failed before the payload went out): retry."""


class PermanentFailure(MailError):
    """The server refused the sender, the recipient or the message (5xx): do not retry."""


class AmbiguousFailure(MailError):
    """The connection broke after the whole message was sent, before the server's reply (RFC 1047)."""


class ConfigError(MailError, AppConfigError):
    """SMTP_URL does not describe a usable server.

    Also an `app.errors.ConfigError`, so the CLI and the web app report it
    like every other bad setting.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.field = "SMTP_URL"
