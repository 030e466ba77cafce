"""Double opt-in: the confirmation email, its signed link, and the click that gives consent.

A subscription from a source that needs confirming leaves the contact `unconfirmed` (no
marketing mail) and queues a confirmation email: a transactional message in the ledger like
any other, whose key starts with `confirm:`, rendered here rather than from a template. Its
link opens a page with a button; only the POST of that button confirms, because mail
scanners fetch every link in a message and a GET must not subscribe anybody.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from html import escape

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import ConsentRecord, Contact, Message, MessageStatus, SubscriptionStatus
from app.services.contact_links import preferences_url
from journeys.rendering import RenderedEmail

SALT = "journeys.confirm"
#: Key prefix of confirmation messages in the ledger.
PREFIX = "confirm:"
#: Days a confirmation link stays valid.
LINK_DAYS = 30
#: A contact gets at most one confirmation email in this long, however often they sign up.
RESEND_AFTER = timedelta(hours=24)


class _ClockSigner(TimestampSigner):
    """Links age by the app's clock (app/clock.py), like everything else that keeps time."""

    def get_timestamp(self) -> int:
        from app import clock

        return int(clock.now().timestamp())


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT, signer=_ClockSigner)


def owns(message_key: str) -> bool:
    return message_key.startswith(PREFIX)


def confirm_url(settings: Settings, contact_id: int, message_key: str) -> str:
    token = _serializer(settings).dumps([contact_id, message_key])
    return f"{settings.base_url}/confirm/{token}"


class LinkExpired(Exception):
    """A genuine confirmation link, older than LINK_DAYS."""


def read_token(settings: Settings, token: str) -> tuple[int, str] | None:
    """(contact id, message key) of a genuine, current link; None for a forged one; LinkExpired."""
    try:
        contact_id, key = _serializer(settings).loads(token, max_age=LINK_DAYS * 86400)
    except SignatureExpired:
        raise LinkExpired() from None
    except (BadSignature, ValueError, TypeError):
        return None
    return int(contact_id), str(key)


def request(db: Session, contact: Contact, now: datetime) -> Message | None:
    """Queue a confirmation email for `contact` (delivered after the caller commits); None when
    one was queued or sent within RESEND_AFTER."""
    if contact.id is None:
        db.flush()
    recent = db.scalar(select(Message.id).where(
        Message.contact_id == contact.id, Message.key.startswith(PREFIX),
        Message.created_at > now - RESEND_AFTER).limit(1))
    if recent is not None:
        return None
    message = Message(key=f"{PREFIX}{contact.id}:{secrets.token_hex(8)}", contact_id=contact.id,
                      category="transactional", status=MessageStatus.queued.value, attempts=0,
                      to_email=contact.email, subject="", created_at=now, updated_at=now)
    db.add(message)
    db.flush()
    deliver_after_commit(db, [message.id])
    return message


def confirm(db: Session, contact: Contact, message_key: str, *, now: datetime, ip: str | None,
            user_agent: str | None, wording: str) -> ConsentRecord | None:
    """The contact pressed the button: marketing consent, recorded with where it came from."""
    from app.services import consent

    return consent.change(db, contact, "marketing", SubscriptionStatus.subscribed, source="confirmation",
                          now=now, ip=ip, user_agent=user_agent, wording=wording,
                          details={"message": message_key})


def refusal(status: SubscriptionStatus) -> str | None:
    """Why a queued confirmation must not go after all (the contact moved on), else None."""
    return None if status == SubscriptionStatus.unconfirmed else "not_awaiting_confirmation"


def render(settings: Settings, shop_name: str, contact_id: int, message_key: str) -> RenderedEmail:
    url = confirm_url(settings, contact_id, message_key)
    shop = escape(shop_name)
    subject = f"Please confirm your subscription to {shop_name}"
    text = (f"Please confirm that you want emails from {shop_name}:\n\n{url}\n\n"
            "Open the link and press the button. If you did not ask for this, ignore this email: "
            "without your confirmation you will not get our newsletters.\n\n"
            f"Your preferences: {preferences_url(settings, contact_id)}\n")
    html = (f"<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">"
            f"<p>Please confirm that you want emails from {shop}.</p>"
            f"<p><a href=\"{escape(url)}\" style=\"display:inline-block;padding:10px 18px;background:#2b6cb0;"
            f"color:#fff;text-decoration:none;border-radius:4px\">Confirm my subscription</a></p>"
            "<p>If you did not ask for this, ignore this email: without your confirmation you will not "
            "get our newsletters.</p></body></html>")
    return RenderedEmail(subject=subject, html=html, text=text, preheader="", links=(url,))


def deliver_after_commit(db: Session, ids: list[int]) -> None:
    """Enqueue delivery of `ids` once the session's transaction commits (dropped on rollback);
    if Redis is down then, the scheduler's reconciler sends them a minute later."""
    pending: list[int] = db.info.setdefault("deliver_after_commit", [])
    pending.extend(ids)
    if not db.info.get("deliver_after_commit_hooked"):
        db.info["deliver_after_commit_hooked"] = True
        event.listen(db, "after_commit", _enqueue_pending)
        event.listen(db, "after_rollback", _forget_pending)


def _enqueue_pending(db: Session) -> None:
    ids = db.info.pop("deliver_after_commit", None)
    if ids:
        from app import jobs

        jobs.enqueue_deliveries(ids)


def _forget_pending(db: Session) -> None:
    if not db.in_nested_transaction():  # a savepoint's rollback keeps the outer work
        db.info.pop("deliver_after_commit", None)
