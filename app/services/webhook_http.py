"""One outgoing webhook request, and what its answer means for the ledger.

`http.client`, not `urllib.request`: it never follows a redirect (a redirect
could lead off the allow-list), ignores proxy variables, and leaves the
timeout and the response read in our hands. The whole exchange has one
deadline; the answer's body is read up to 64 KiB and thrown away.
"""
from __future__ import annotations

import base64
import http.client
import json
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

#: Bytes of an answer's body read (and discarded) at most.
MAX_RESPONSE_BYTES = 64 * 1024
#: Headers Journeys sets itself: a node may not set them (framing, routing, deduplication).
RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection",
                              "idempotency-key", "webhook-id"})
#: Answers worth asking again: the receiver is busy, slow or broken for now.
RETRY_STATUSES = frozenset({408, 429})


def _version() -> str:
    try:
        return metadata.version("journeys")
    except metadata.PackageNotFoundError:
        return "dev"


USER_AGENT = f"Journeys/{_version()}"


@dataclass(frozen=True)
class Result:
    """done: 2xx. retry: worth another attempt later. failed: final."""
    kind: Literal["done", "retry", "failed"]
    status: int | None
    detail: str
    retry_after: float | None = None  # seconds the receiver asked us to wait (Retry-After)


def request_headers(configured: Mapping[str, str], body: str | None, key: str) -> dict[str, str]:
    """The headers of every attempt: ours, then the node's (which may replace Content-Type and
    User-Agent); ValueError names a header the node may not set or cannot send."""
    headers = {"User-Agent": USER_AGENT}
    if body:
        headers["Content-Type"] = _content_type(body)
    for name, value in configured.items():
        if name.strip().lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by Journeys; remove it from the webhook node")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"header {name!r} has characters HTTP headers cannot carry "
                             "(only Latin-1; encode the value first)") from None
        for ours in [k for k in headers if k.lower() == name.strip().lower()]:
            del headers[ours]
        headers[name.strip()] = value
    # The receiver deduplicates on these: a call may arrive twice (retries are at-least-once).
    headers["Idempotency-Key"] = headers["Webhook-Id"] = key
    return headers


def _content_type(body: str) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def send(method: str, url: str, headers: Mapping[str, str], body: str | None, timeout: float) -> Result:
    """Make the request once; never raises for a network or protocol problem."""
    deadline = time.monotonic() + timeout
    try:
        conn, target, auth = _connection(url, timeout)
    except (ValueError, http.client.InvalidURL) as exc:
        return Result("failed", None, f"the URL cannot be requested: {exc}")
    phase = "connecting"
    try:
        conn.connect()
        phase = "sending the request"
        _settimeout(conn, deadline)
        conn.putrequest(method, target)
        if auth and not _has(headers, "authorization"):
            conn.putheader("Authorization", auth)
        for name, value in headers.items():
            conn.putheader(name, value)
        data = body.encode("utf-8") if body else b""
        if data or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data or None)
        phase = "waiting for the answer (the request was sent)"
        _settimeout(conn, deadline)
        response = conn.getresponse()
        _drain(conn, response, deadline)
        return classify(response.status, response.reason, response.getheader("Location"),
                        response.getheader("Retry-After"))
    except TimeoutError:
        return Result("retry", None, f"timed out after {timeout:g} s {phase}")
    except ssl.SSLError as exc:
        return Result("retry", None, f"TLS, {phase}: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        return Result("retry", None, f"failed {phase}: {type(exc).__name__} {exc}".rstrip())
    except (UnicodeError, ValueError) as exc:
        return Result("failed", None, f"the request cannot be sent: {exc}")
    finally:
        conn.close()


def classify(status: int, reason: str, location: str | None = None, retry_after: str | None = None) -> Result:
    """What an answer's status means: 2xx done; 408, 429, 5xx retry; redirects and the rest fail."""
    said = f"HTTP {status} {reason}".rstrip()
    if 200 <= status < 300:
        return Result("done", status, said)
    if status in RETRY_STATUSES or 500 <= status < 600:
        return Result("retry", status, said, _seconds(retry_after))
    if 300 <= status < 400:
        to = f" to {location}" if location else ""
        return Result("failed", status, f"{said}: redirects are not followed{to}; "
                                        "point the webhook node at the final URL")
    return Result("failed", status, said)


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str, str | None]:
    parts = urlsplit(url)
    port = parts.port  # ValueError for a port that is not a number
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", port, timeout=timeout)
    # Quote what a browser would (spaces, non-ASCII) and keep what is already escaped.
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
    if parts.query:
        target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~-._?")
    auth = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return conn, target, auth


def _has(headers: Mapping[str, str], name: str) -> bool:
    return any(k.lower() == name for k in headers)


def _settimeout(conn: http.client.HTTPConnection, deadline: float) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    if conn.sock is not None:
        conn.sock.settimeout(left)


def _drain(conn: http.client.HTTPConnection, response: http.client.HTTPResponse, deadline: float) -> None:
    """Read the body, up to the cap, within the deadline; its status already decided the outcome."""
    left = MAX_RESPONSE_BYTES
    try:
        while left > 0:
            _settimeout(conn, deadline)
            chunk = response.read1(min(left, 16 * 1024))
            if not chunk:
                return
            left -= len(chunk)
    except (OSError, http.client.HTTPException):
        pass


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP date: the backoff schedule is good enough
    return seconds if seconds >= 0 else None
