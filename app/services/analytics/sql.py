"""SQL pieces the analytics queries share across SQLite and PostgreSQL."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement


def day(db: Session, column: Any) -> ColumnElement[str]:
    """The UTC calendar day of a timestamp column, as 'YYYY-MM-DD', on either backend."""
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def money(value: Any) -> Decimal:
    """An order's total as the engine counts it (events._count_order): anything unreadable is 0."""
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
    return amount if amount.is_finite() else Decimal(0)


def rate(part: int | float | Decimal, whole: int) -> float | None:
    """part / whole, or None when there is no whole to divide by (never a division by zero)."""
    return float(part) / whole if whole else None
