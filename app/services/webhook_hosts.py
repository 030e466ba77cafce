"""The allow-list of hosts webhook nodes may call, kept in the database by an admin.

Marketers draw journeys; they do not decide where the server sends requests
from inside the network. So a webhook node names any URL, but a call is made
only when an admin allowed its host (`journeys webhooks allow HOST`).

A pattern is an exact host name or IP address (compared case-insensitively,
IDNA-encoded, without a trailing dot), or `*.example.com`: any subdomain of
example.com at any depth, not example.com itself. Any port of an allowed host
may be called. The matching functions are pure; the rest reads and writes the
`webhook_hosts` table.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.models import WebhookHost
from app.services import audit

#: The only schemes a webhook node may call.
SCHEMES = ("http", "https")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def normalize_pattern(text: str) -> str:
    """The stored form of an allow-list entry; ValidationFailed says what is wrong with `text`."""
    raw = text.strip().lower()
    if not raw:
        raise ValidationFailed("give a host name, such as crm.example.com or *.example.com", field="host")
    if "://" in raw or "/" in raw:
        host = _url_host(raw)
        hint = f": allow its host with `journeys webhooks allow {host}`" if host else ""
        raise ValidationFailed(f"{text!r} is a URL, not a host name{hint}", field="host")
    if raw == "*" or raw == "*.":
        raise ValidationFailed("'*' would allow every host and defeat the allow-list; "
                               "name the hosts, or their domain as *.example.com", field="host")
    wildcard = raw.startswith("*.")
    name = raw[2:] if wildcard else raw
    address = _ip(name)
    if address is not None:
        if wildcard:
            raise ValidationFailed(f"{text!r}: an IP address cannot have subdomains; "
                                   f"allow {address} itself", field="host")
        return address
    host = _host_name(name, text)
    if wildcard and host.count(".") < 1:
        raise ValidationFailed(f"{text!r} would allow every host under .{host}; "
                               f"name a domain such as *.example.{host}", field="host")
    return f"*.{host}" if wildcard else host


def host_matches(host: str, pattern: str) -> bool:
    """`host` (normalised, see `url_host`) against one stored pattern."""
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])  # the leading dot: subdomains only, never example.com itself
    return host == pattern


def url_host(url: str) -> str | None:
    """The normalised host of `url`, or None when it has none (or is not a valid URL)."""
    host = _url_host(url)
    if not host:
        return None
    address = _ip(host)
    if address is not None:
        return address
    try:
        return _host_name(host, url)
    except ValidationFailed:
        return None


def refusal(url: str, patterns: Iterable[str]) -> str | None:
    """Why a call to `url` may not be made, or None when it may: the scheme, then the allow-list."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        return f"the URL {url!r} cannot be read: {exc}"
    if scheme not in SCHEMES:
        return f"only http and https URLs are called, not {scheme or 'a URL without a scheme'}: {url!r}"
    host = url_host(url)
    if host is None:
        return f"the URL {url!r} has no valid host"
    if not any(host_matches(host, p) for p in patterns):
        return (f"the host {host} is not on the webhook allow-list: no request was made; "
                f"an admin can add it with `journeys webhooks allow {host}`")
    return None


def patterns(db: Session) -> list[str]:
    return list(db.scalars(select(WebhookHost.pattern).order_by(WebhookHost.pattern)))


def listing(db: Session) -> list[WebhookHost]:
    return list(db.scalars(select(WebhookHost).order_by(WebhookHost.pattern)))


def allow(db: Session, text: str, added_by: str, now: datetime) -> tuple[WebhookHost, bool]:
    """Add a pattern (the caller commits); (row, False) when it was allowed already."""
    pattern = normalize_pattern(text)
    known = db.scalar(select(WebhookHost).where(WebhookHost.pattern == pattern))
    if known is not None:
        return known, False
    row = WebhookHost(pattern=pattern, added_by=added_by[:320], added_at=now)
    db.add(row)
    audit.record(db, None, "webhook_host.allow", pattern, by=added_by)
    db.flush()
    return row, True


def disallow(db: Session, text: str, removed_by: str) -> str:
    """Remove a pattern (the caller commits); NotFound when it is not on the list."""
    pattern = normalize_pattern(text)
    if not db.execute(delete(WebhookHost).where(WebhookHost.pattern == pattern)).rowcount:
        raise NotFound(f"{pattern} is not on the webhook allow-list (see `journeys webhooks list`); "
                       "a pattern is removed as it was added: a host, or *.domain")
    audit.record(db, None, "webhook_host.disallow", pattern, by=removed_by)
    return pattern


def _url_host(url: str) -> str | None:
    try:
        host = urlsplit(url if "://" in url else f"//{url}").hostname
    except ValueError:  # a malformed IPv6 literal
        return None
    return host.rstrip(".") if host else None


def _ip(text: str) -> str | None:
    try:
        return ipaddress.ip_address(text.strip("[]")).compressed
    except ValueError:
        return None


def _host_name(name: str, given: str) -> str:
    name = name.rstrip(".")
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        raise ValidationFailed(f"{given!r} is not a valid host name", field="host") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationFailed(f"{given!r} is not a valid host name: letters, digits and hyphens "
                               "separated by dots, or *.domain for its subdomains", field="host")
    return ascii_name
