"""The analytics the canvas shows on its steps: per send node its rates, orders and revenue; per
A/B split its state. The same functions as the report (report.py), so the two always agree."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.models import Journey
from app.services import workspace
from app.services.analytics import ab, attribution, sends
from app.services.journeys import live_version

_CENTS = Decimal("0.01")


def overlay(db: Session, journey: Journey) -> dict[str, dict[str, Any]]:
    """node id → {"analytics": …} to merge into the canvas's live counts."""
    ws = workspace.current(db)
    credits = attribution.credits(db, ws, journey_id=journey.id)
    out: dict[str, dict[str, Any]] = {}
    for node, row in sends.by_node(sends.send_stats(db, journey.id, credits)).items():
        rates = row.rates
        out[node] = {"delivered": row.delivered, "opened": row.opened, "clicked": row.clicked,
                     "open_rate": rates["open"], "click_rate": rates["click"], "unsubscribed": row.unsubscribed,
                     "bounced": row.bounced, "complained": row.complained, "opens_machine": row.opens_machine,
                     "conversions": row.conversions, "revenue": str(row.revenue.quantize(_CENTS)),
                     "currency": ws.currency}
    version = live_version(db, journey)
    for split in ab.results(db, journey, version.graph if version else None, credits):
        out.setdefault(split.node, {})["ab"] = {
            "status": split.status, "leader": split.leader,
            "winner": split.winner["variant"] if split.winner else None,
            "recipients": {v.key: v.recipients for v in split.variants},
            "min_recipients": split.rule.min_recipients}
    return out
