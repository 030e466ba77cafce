"""The shops' webhook signature: base64 of HMAC-SHA256 over the raw body, keyed with the secret.

Shopify (X-Shopify-Hmac-Sha256) and WooCommerce (X-WC-Webhook-Signature) sign the same way.
"""
from __future__ import annotations

import base64
import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def matches(secret: str, body: bytes, given: str) -> bool:
    """Whether `given` is the signature of `body`, compared in constant time."""
    try:
        presented = given.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(sign(secret, body).encode("ascii"), presented)
