"""Last-touch attribution of orders to the emails that led to them.

An order is credited to the message of the latest open or click of the same
contact before it, provided the order came within that touch's window (a
click's window for a click, an open's for an open: by default 5 days and 1
day). At equal times a click outranks an open. An order with no touch in its
window is credited to no email. Each order is credited once, so summing the
credits over every journey never counts an order twice.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

TouchKind = Literal["open", "click"]


@dataclass(frozen=True)
class Touch:
    at: datetime
    message: int
    kind: TouchKind


@dataclass(frozen=True)
class Order:
    at: datetime
    total: Decimal
    key: int
    """The order's own id (its event id): a credit names the order it is for."""


@dataclass(frozen=True)
class Windows:
    click: timedelta
    open: timedelta

    def of(self, kind: TouchKind) -> timedelta:
        return self.click if kind == "click" else self.open


@dataclass(frozen=True)
class Credit:
    order: Order
    touch: Touch

    @property
    def message(self) -> int:
        return self.touch.message


def _rank(touch: Touch) -> tuple[datetime, int]:
    return touch.at, 1 if touch.kind == "click" else 0


def attribute(touches: Iterable[Touch], orders: Iterable[Order], windows: Windows) -> list[Credit]:
    """One contact's orders credited to its touches (last touch wins), in order of the orders."""
    ordered = sorted(touches, key=_rank)
    times = [t.at for t in ordered]
    widest = max(windows.click, windows.open)
    credits = []
    for order in sorted(orders, key=lambda o: (o.at, o.key)):
        index = bisect_right(times, order.at)  # touches at the order's instant count
        while index > 0:
            index -= 1
            touch = ordered[index]
            age = order.at - touch.at
            if age > widest:
                break
            if age <= windows.of(touch.kind):
                credits.append(Credit(order, touch))
                break
    return credits
