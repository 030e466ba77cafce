"""Mail: MIME messages, the backends that carry them (SMTP, outbox) and their errors."""
from app.mail.backends import BACKENDS, MailBackend, OutboxBackend, SMTPBackend, backend_from_settings, parse_smtp_url
from app.mail.errors import AmbiguousFailure, ConfigError, MailError, PermanentFailure, TemporaryFailure
from app.mail.message import build_message, message_id_for

__all__ = ["BACKENDS", "AmbiguousFailure", "ConfigError", "MailBackend", "MailError", "OutboxBackend",
           "PermanentFailure", "SMTPBackend", "TemporaryFailure", "backend_from_settings", "build_message",
           "message_id_for", "parse_smtp_url"]
