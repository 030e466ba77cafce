"""`POST /api/v1/webhooks/bounces/<provider>`: who may post, and what their post means.

Each provider authenticates as it can:
- ses: the SNS signature (always), and the topic: one listed in BOUNCE_SNS_TOPIC_ARNS, or
  any topic when the URL carries this install's bounce token (a signature proves only that
  SNS sent the message, and anyone can make a topic);
- sendgrid: its ECDSA signature when SENDGRID_WEBHOOK_PUBLIC_KEY is set, else the token;
- postmark, dsn: the token (in the URL's `token` query, or as the Basic auth password).
The token is an HMAC of the provider's name with SECRET_KEY: Settings → Deliverability shows
the URLs to paste into each provider.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import BadRequest, NotFound, Unauthorized
from app.services import bounce_formats, bounces, sns

log = logging.getLogger(__name__)

PROVIDERS = ("ses", "sendgrid", "postmark", "dsn")
PATH = "/api/v1/webhooks/bounces/{provider}"
#: Seconds a SendGrid signature's timestamp may be off.
SENDGRID_TOLERANCE = 300


def token(settings: Settings, provider: str) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"journeys.bounces:{provider}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode().rstrip("=")


def url(settings: Settings, provider: str) -> str:
    return f"{settings.base_url}{PATH.format(provider=provider)}?token={token(settings, provider)}"


@dataclass(frozen=True)
class Receipt:
    status: str  # processed | subscribed | ignored
    counts: dict[str, int] = field(default_factory=dict)


def receive(db: Session, settings: Settings, provider: str, *, headers: Mapping[str, str], body: bytes,
            given_token: str | None, now: datetime) -> Receipt:
    """Authenticate, parse and apply one post (flushes); raises Unauthorized/BadRequest/NotFound."""
    if provider not in PROVIDERS:
        raise NotFound(f"No bounce webhook for {provider!r}: use one of {', '.join(PROVIDERS)}.")
    has_token = given_token is not None and hmac.compare_digest(given_token, token(settings, provider))
    if provider == "ses":
        return _ses(db, settings, body, has_token, now)
    if provider == "sendgrid" and settings.sendgrid_webhook_public_key:
        _verify_sendgrid(settings.sendgrid_webhook_public_key, headers, body, now)
    elif not has_token:
        raise Unauthorized(f"Post {provider} notifications to the URL shown in Settings → Deliverability: "
                           "it carries this install's token.", headers={"WWW-Authenticate": 'Basic realm="bounces"'})
    parse = {"sendgrid": bounce_formats.sendgrid, "postmark": bounce_formats.postmark, "dsn": bounce_formats.dsn}
    return _applied(db, parse[provider](body), now)


def _applied(db: Session, notices: list[bounce_formats.Notice], now: datetime) -> Receipt:
    counts: Counter[str] = bounces.apply(db, notices, now)
    return Receipt("processed" if notices else "ignored", dict(counts))


def _ses(db: Session, settings: Settings, body: bytes, has_token: bool, now: datetime) -> Receipt:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("An SNS message is a JSON document.") from None
    if not isinstance(message, dict):
        raise BadRequest("An SNS message is a JSON object.")
    sns.verify(message)
    topic = str(message.get("TopicArn", ""))
    if not has_token and topic not in settings.bounce_sns_topic_arns:
        log.warning("SNS message from topic %s refused: not in BOUNCE_SNS_TOPIC_ARNS and no token", topic)
        raise Unauthorized(f"Topic {topic} is not one of ours: list it in BOUNCE_SNS_TOPIC_ARNS, or subscribe "
                           "the URL with the token shown in Settings → Deliverability.")
    kind = message.get("Type")
    if kind == "SubscriptionConfirmation":
        sns.confirm_subscription(message)
        log.info("confirmed the SNS subscription to %s", topic)
        return Receipt("subscribed")
    if kind != "Notification":
        return Receipt("ignored")  # UnsubscribeConfirmation: nothing to do
    try:
        notification = json.loads(message.get("Message") or "")
    except ValueError:
        return Receipt("ignored")  # a test message published by hand to the topic
    if not isinstance(notification, dict):
        return Receipt("ignored")
    return _applied(db, bounce_formats.ses(notification, str(message.get("MessageId", ""))), now)


def _verify_sendgrid(public_key: str, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    signature = headers.get("X-Twilio-Email-Event-Webhook-Signature")
    stamp = headers.get("X-Twilio-Email-Event-Webhook-Timestamp")
    if not signature or not stamp:
        raise Unauthorized("SendGrid posts must be signed (Signed Event Webhook): the signature headers are missing.")
    try:
        if abs(now.timestamp() - int(stamp)) > SENDGRID_TOLERANCE:
            raise Unauthorized("The SendGrid signature's timestamp is too far from now: a replay?")
        key = serialization.load_der_public_key(base64.b64decode(public_key))
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("not an EC key")
        key.verify(base64.b64decode(signature), stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        raise Unauthorized("The SendGrid signature does not verify.") from None
