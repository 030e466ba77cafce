"""Mail: MIME messages, the backends that carry them (SMTP, outbox), their errors.

The send rate limiter lives in `app.mail.ratelimit`, imported on its own so
that building or sending a message does not need Redis.
"""
from app.mail.backends import BACKENDS, MailBackend, OutboxBackend, SMTPBackend, backend_from_settings
from app.mail.errors import AmbiguousFailure, ConfigError, MailError, PermanentFailure, TemporaryFailure
from app.mail.message import OutgoingMessage, build_message, message_id_for
from app.mail.smtp_url import SMTPSettings, parse_smtp_url

__all__ = ["BACKENDS", "AmbiguousFailure", "ConfigError", "MailBackend", "MailError", "OutboxBackend",
           "PermanentFailure", "SMTPBackend", "SMTPSettings", "TemporaryFailure", "backend_from_settings",
           "OutgoingMessage", "build_message", "message_id_for", "parse_smtp_url"]
