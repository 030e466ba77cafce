"""Amazon SNS messages: the signature checked with the certificate SNS names, cached per URL.

SigningCertURL must be https on an `sns.<region>.amazonaws.com` host and name a .pem: a
forged message that points at a certificate of its own is refused before anything is
fetched. The signed string is built as SNS documents it (name, newline, value, newline for
each field, in order); SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA. A valid
signature proves SNS sent it, not that the topic is ours: the caller checks TopicArn too.
"""
from __future__ import annotations

import base64
import logging
import re
import threading
import time
import urllib.request
from typing import Any, Callable
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.errors import Unauthorized

log = logging.getLogger(__name__)

_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com$")
#: Fields signed, per message type, in the order SNS signs them.
_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
#: Seconds a fetched certificate is kept (SNS rotates them rarely; a restart forgets them).
CACHE_SECONDS = 24 * 3600
#: Seconds a certificate or confirmation fetch may take.
FETCH_TIMEOUT = 5.0

_cache: dict[str, tuple[float, x509.Certificate]] = {}
_lock = threading.Lock()


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 - the URL is checked
        return response.read(64 * 1024)


#: How certificates and confirmation URLs are fetched (tests that cannot reach AWS replace it).
fetch: Callable[[str], bytes] = _fetch


def check_aws_url(url: Any, what: str, *, pem: bool = False) -> str:
    """`url` if it is https on an SNS host (and, for a certificate, a .pem); Unauthorized otherwise."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        port = parts.port if parts is not None else None
    except ValueError:  # a port that is not a number
        parts, port = None, None
    if (parts is None or parts.scheme != "https" or not _HOST.match(parts.hostname or "")
            or port not in (None, 443) or parts.username or (pem and not parts.path.endswith(".pem"))):
        raise Unauthorized(f"{what} must be an https URL on an sns.<region>.amazonaws.com host; "
                           "this notification was not sent by Amazon SNS.")
    return str(url)


def remember_certificate(url: str, pem: bytes) -> None:
    """Put a certificate in the cache, as if fetched from `url` (tests, air-gapped installs)."""
    with _lock:
        _cache[url] = (time.monotonic(), x509.load_pem_x509_certificate(pem))


def _certificate(url: str) -> x509.Certificate:
    with _lock:
        cached = _cache.get(url)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        cert = x509.load_pem_x509_certificate(fetch(url))
    except (OSError, ValueError) as exc:
        log.warning("SNS signing certificate %s could not be loaded: %s", url, exc)
        raise Unauthorized("The SNS signing certificate could not be fetched or read; SNS will retry.") from None
    with _lock:
        _cache[url] = (time.monotonic(), cert)
    return cert


def signed_string(message: dict[str, Any]) -> bytes:
    fields = _SIGNED.get(str(message.get("Type")))
    if fields is None:
        raise Unauthorized(f"Unknown SNS message type {message.get('Type')!r}.")
    parts = []
    for name in fields:
        if name in message and message[name] is not None:
            parts.append(f"{name}\n{message[name]}\n")
        elif name != "Subject":
            raise Unauthorized(f"The SNS message lacks {name}, which its signature covers.")
    return "".join(parts).encode("utf-8")


def verify(message: dict[str, Any]) -> None:
    """Return quietly for a genuine SNS message; Unauthorized for an unsigned or forged one."""
    algorithm = _HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None or not isinstance(message.get("Signature"), str):
        raise Unauthorized("The SNS message is unsigned (SignatureVersion 1 or 2 and Signature are required).")
    url = check_aws_url(message.get("SigningCertURL"), "SigningCertURL", pem=True)
    key = _certificate(url).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Unauthorized("The SNS signing certificate does not hold an RSA key.")
    try:
        key.verify(base64.b64decode(message["Signature"], validate=True), signed_string(message),
                   padding.PKCS1v15(), algorithm())
    except (InvalidSignature, ValueError):
        raise Unauthorized("The SNS message's signature does not verify: it was changed or forged.") from None


def confirm_subscription(message: dict[str, Any]) -> None:
    """Visit SubscribeURL (after `verify`), which is how SNS subscriptions are confirmed."""
    url = check_aws_url(message.get("SubscribeURL"), "SubscribeURL")
    try:
        fetch(url)
    except OSError as exc:
        log.warning("confirming the SNS subscription to %s failed: %s", message.get("TopicArn"), exc)
        raise
