"""Signatures of incoming requests, checked over the raw body in constant time.

Standard Webhooks (https://www.standardwebhooks.com/): the sender signs
`{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 under the base64 secret after
`whsec_`, and sends `v1,<base64>` in webhook-signature, several of them space-separated
while it rotates secrets. We accept a request when any v1 signature matches and the
timestamp is within five minutes of our clock; the webhook-id then names the message,
so a replay inside that window is recognised as a duplicate rather than stored again.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Mapping

from app.errors import FieldProblem, Unauthorized

#: How far webhook-timestamp may be from our clock, either way.
TOLERANCE = timedelta(minutes=5)
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
#: Longest webhook-id we take: it becomes part of an idempotency key.
ID_MAX = 200


class SignatureRefused(Unauthorized):
    title = "Signature refused"


def _key(secret: str) -> bytes:
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    return base64.b64decode(raw + "==")  # senders drop the padding; extra padding is ignored


def _mac(secret: str, msg_id: str, stamp: str, body: bytes) -> bytes:
    return hmac.new(_key(secret), f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature value for this message (one `v1,` signature)."""
    return "v1," + base64.b64encode(_mac(secret, msg_id, str(timestamp), body)).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
    """The webhook-id of a correctly signed, fresh request; SignatureRefused otherwise."""
    values = {name: (headers.get(name) or "").strip() for name in HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SignatureRefused(
            f"This API key requires signed requests (Standard Webhooks): {', '.join(missing)} missing.",
            errors=[FieldProblem("missing", header=name) for name in missing])
    msg_id, stamp = values["webhook-id"], values["webhook-timestamp"]
    if len(msg_id) > ID_MAX or not msg_id.isprintable():
        raise SignatureRefused(f"webhook-id must be at most {ID_MAX} printable characters.",
                               errors=[FieldProblem("too long or not printable", header="webhook-id")])
    if not stamp.isdigit():
        raise SignatureRefused("webhook-timestamp must be whole seconds since 1970 (Unix time).",
                               errors=[FieldProblem("not a Unix time", header="webhook-timestamp")])
    skew = abs(int(now.timestamp()) - int(stamp))
    if skew > TOLERANCE.total_seconds():
        raise SignatureRefused(
            f"webhook-timestamp is {skew} s away from our clock; at most {int(TOLERANCE.total_seconds())} s "
            "is accepted (a stale or replayed request, or a sender whose clock is wrong).",
            errors=[FieldProblem("outside the tolerance", header="webhook-timestamp")])
    expected = _mac(secret, msg_id, stamp, body)  # over the header as sent, not as we would print it
    for candidate in values["webhook-signature"].split():
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue  # another scheme (v1a: asymmetric) we do not hold a key for
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected, given):
            return msg_id
    raise SignatureRefused(
        "No webhook-signature matches this body under the key's signing secret "
        "(the body changed after signing, or it was signed with another secret).",
        errors=[FieldProblem("no matching v1 signature", header="webhook-signature")])
