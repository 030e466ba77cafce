"""Contact metrics derived from events: the same arithmetic in the engine and the simulator."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from journeys.timing import isoformat

ORDER_EVENTS = frozenset({"order_placed"})


def after_order(metrics: dict[str, Any], properties: dict[str, Any], at: datetime) -> dict[str, Any]:
    """Metrics once an order worth `properties["total"]` was placed at `at`."""
    total = properties.get("total")
    amount = float(total) if isinstance(total, (int, float)) and not isinstance(total, bool) else 0.0
    if isinstance(total, str):
        try:
            amount = float(total)
        except ValueError:
            amount = 0.0
    updated = dict(metrics)
    updated["orders_count"] = int(metrics.get("orders_count") or 0) + 1
    updated["total_spent"] = round(float(metrics.get("total_spent") or 0) + amount, 2)
    updated["last_order_at"] = isoformat(at)
    return updated
