"""Test emails: one message to one address, outside any journey, through the configured backend.

The template editor sends what it shows (unsaved edits included); Settings sends a short
check of the mail settings. Test mail is never written to the message ledger (nobody's
journey sent it); every attempt, refused or sent, is in the audit log instead, with the
address, so a test send cannot be used quietly. The sender is the workspace's, exactly
as a journey's send would have it.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from limits import parse_many
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import ValidationFailed
from app.errors import ConfigError
from app.mail import MailBackend, MailError, backend_from_settings, build_message
from app.models import AuditEntry, User
from app.services import workspace
from journeys.addresses import parse_address
from journeys.errors import AddressError
from journeys.rendering import RenderedEmail

log = logging.getLogger(__name__)

#: Test sends a user may make (flask-limiter notation): enough to iterate, too few to spam with.
TEST_SEND_LIMIT = "5 per minute;30 per hour"
SUBJECT_PREFIX = "[Test] "


@dataclass(frozen=True)
class SendResult:
    sent: bool
    to: str
    detail: str
    message_id: str | None = None


def recipient(raw: str) -> str:
    """The normalised address, or ValidationFailed pointing at `to`."""
    try:
        return parse_address(raw)
    except AddressError as exc:
        raise ValidationFailed(f"{exc}.", field="to") from None


def allowed(user_id: int) -> bool:
    """Count one test send against the user's limit; False once it is used up. Shared by every
    web process through the rate-limit store (Redis); process memory if that is down."""
    from app.security import limiter

    try:
        strategy = limiter.limiter
        return all(strategy.hit(item, "test-send", str(user_id)) for item in parse_many(TEST_SEND_LIMIT))
    except Exception:  # noqa: BLE001 - the store is unreachable: a test send is not worth an error page
        log.warning("test-send rate limit unavailable; allowing the send", exc_info=True)
        return True


def send_test(db: Session, *, to: str, email: RenderedEmail, settings: Settings, actor: User, now: datetime,
              action: str, target: str, backend: MailBackend | None = None) -> SendResult:
    """Send `email` to `to` (already checked by `recipient`) through `backend` (default: the
    configured one) and audit the attempt; flushes.

    A refusal by the mail server, or an SMTP_URL that does not parse, is a result, not an
    exception: the audit entry must stay."""
    sender = workspace.sender(workspace.current(db), settings.mail_from)
    headers = {"Reply-To": sender.reply_to} if sender.reply_to else {}
    mime = build_message(key=f"test:{uuid.uuid4()}", sender=sender.from_header, to=to,
                         subject=SUBJECT_PREFIX + email.subject, html=email.html, text=email.text, now=now,
                         domain=sender.address.rpartition("@")[2] or "localhost", headers=headers)
    try:
        with backend or backend_from_settings(settings) as opened:
            opened.send(mime)
    except ConfigError as exc:  # SMTP_URL does not parse (it is also a MailError)
        result = SendResult(False, to, f"The mail settings are wrong: {exc}")
    except (MailError, OSError) as exc:
        result = SendResult(False, to, f"The mail server did not take it: {exc}")
    except ValueError as exc:  # an address the backend cannot put on the wire (SMTPUTF8)
        result = SendResult(False, to, f"It cannot be sent: {exc}")
    else:
        result = SendResult(True, to, f"Sent to {to} from {sender.display} ({describe(settings)}).",
                            mime.message_id)
    db.add(AuditEntry(actor_id=actor.id, actor=actor.email, action=action, target=target,
                      details={"to": to, "sent": result.sent, "message_id": result.message_id,
                               "error": None if result.sent else result.detail}, at=now))
    db.flush()
    return result


def describe(settings: Settings) -> str:
    """Where mail goes, in words, without the password."""
    if not settings.smtp_url:
        return f"written to the outbox folder {settings.outbox_path}"
    from app.mail import parse_smtp_url

    smtp = parse_smtp_url(settings.smtp_url)
    how = "implicit TLS" if smtp.implicit_tls else "STARTTLS" if smtp.starttls else "no TLS"
    return f"SMTP {smtp.host}:{smtp.port}, {how}"
