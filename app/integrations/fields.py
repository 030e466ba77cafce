"""Reading shop payloads without trusting their types: a signed payload can still be odd.

Every reader returns a plain value or None; none raises on a wrong type, so a mapping
never fails half-way on an unexpected field.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from journeys.timing import is_valid_zone, parse_timestamp

_ZONE = re.compile(r"(?:[Zz]|[+-]\d\d:?\d\d)$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def text(value: Any, limit: int = 500) -> str | None:
    """A non-empty printable string (trimmed, at most `limit` characters), or None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or not value.isprintable():
        return None
    return value[:limit]


def ident(value: Any) -> str | None:
    """A shop's id as a string (JSON numbers past 2^53 lose digits in JavaScript)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    return text(value, 200)


def money(value: Any) -> str | None:
    """An amount as a decimal string, exactly as precise as the shop sent it."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return format(amount, "f") if amount.is_finite() else None


def count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def timestamp(value: Any, *, utc_if_naive: bool = False) -> str | None:
    """An ISO 8601 timestamp with a zone; WooCommerce's `*_gmt` fields carry none and are UTC."""
    raw = text(value, 64)
    if raw is None:
        return None
    if utc_if_naive and not _ZONE.search(raw):
        raw += "Z"
    return raw if parse_timestamp(raw) is not None else None


def locale(value: Any) -> str | None:
    raw = text(value, 35)
    return raw if raw and _LOCALE.match(raw) else None


def timezone(value: Any) -> str | None:
    raw = text(value, 64)
    return raw if raw and is_valid_zone(raw) else None


def compact(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without the keys whose value is None or empty."""
    return {k: v for k, v in data.items() if v is not None and v != "" and v != [] and v != {}}
