"""A journey's whole report: the funnel per node, what each send did (per variant), the orders
credited to it, A/B results, the holdout lift and the numbers per day.

The canvas overlay, the report page and the API all read `journey_report`, so they cannot
disagree. The figures are computed when asked (a few grouped queries, and attribution over
the journey's contacts), never cached.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Engagement, Enrollment, Journey, Message
from app.services import journey_stats, workspace
from app.services.analytics import ab, attribution, lift, sends
from app.services.analytics.sql import day
from app.services.journeys import live_version

#: The report's charts cover at most this many days (the most recent).
MAX_DAYS = 180
SERIES = ("entered", "sent", "opened", "clicked", "conversions", "revenue")


def journey_report(db: Session, journey: Journey, now: datetime) -> dict[str, Any]:
    ws = workspace.current(db)
    credits = attribution.credits(db, ws, journey_id=journey.id)
    version = live_version(db, journey)
    graph = version.graph if version else journey.draft
    stats = journey_stats.journey_stats(db, journey)
    per_variant = sends.send_stats(db, journey.id, credits)
    per_node = sends.by_node(per_variant)
    overall = sends.SendStats()
    for row in per_node.values():
        overall.add(row)
    exits = _exits_by_node(db, journey.id)
    types = {n["id"]: n.get("type") for n in (graph or {}).get("nodes", []) if isinstance(n, dict) and "id" in n}
    nodes: dict[str, Any] = {}
    for node_id in list(types) + [n for n in stats.nodes if n not in types]:
        counts = stats.nodes.get(node_id, journey_stats.NodeCounts())
        entry: dict[str, Any] = {"type": types.get(node_id), "reached": counts.reached, "waiting": counts.waiting,
                                 "passed": counts.passed, "exited": exits.get(node_id, {}),
                                 "outcomes": counts.outcomes}
        if node_id in per_node:
            entry["send"] = per_node[node_id].as_dict()
            entry["variants"] = {variant or "": row.as_dict() for (node, variant), row in per_variant.items()
                                 if node == node_id and variant is not None}
        nodes[node_id] = entry
    splits = ab.results(db, journey, graph, credits)
    return {
        "journey": {"id": journey.id, "name": journey.name, "status": journey.status.value,
                    "live_version": version.number if version else None},
        "generated_at": now.isoformat(),
        "currency": ws.currency,
        "attribution": {"model": "last touch", "click_days": ws.attribution_click_days,
                        "open_days": ws.attribution_open_days},
        "entered": stats.entered, "inside": stats.inside, "completed": stats.completed, "exited": stats.exited,
        "goals_reached": stats.goals_reached,
        "emails": overall.as_dict(),
        "nodes": nodes,
        "ab": [_split(s) for s in splits],
        "lift": lift.as_dict(lift.lift(db, journey.id, ws)),
        "timeline": timeline(db, journey.id, credits, now),
    }


def _exits_by_node(db: Session, journey_id: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for node, reason, n in db.execute(select(Enrollment.node, Enrollment.exit_reason, func.count())
                                      .where(Enrollment.journey_id == journey_id, Enrollment.status == "exited")
                                      .group_by(Enrollment.node, Enrollment.exit_reason)):
        out.setdefault(node or "-", {})[reason or "unknown"] = n
    return out


def _split(result: ab.SplitResult) -> dict[str, Any]:
    variants = []
    for v in result.variants:
        item = asdict(v)
        item["revenue"] = str(v.revenue.quantize(Decimal("0.01")))
        item["short_by"] = max(result.rule.min_recipients - v.recipients, 0)
        variants.append(item)
    return {"node": result.node, "status": result.status, "enough_data": result.enough_data,
            "auto_winner": result.auto, "rule": result.rule.model_dump(), "leader": result.leader,
            "winner": result.winner, "variants": variants}


def timeline(db: Session, journey_id: int, credits: list[attribution.CreditRow], now: datetime) -> dict[str, Any]:
    """Per UTC day: contacts entered, emails sent, unique human opens and clicks, orders credited."""
    mine = Enrollment.journey_id == journey_id
    counts: dict[str, Counter[str]] = {name: Counter() for name in SERIES}
    entered = day(db, Enrollment.entered_at)
    counts["entered"].update(dict(db.execute(select(entered, func.count()).where(mine).group_by(entered)).all()))
    sent = day(db, Message.sent_at)
    counts["sent"].update(dict(db.execute(
        select(sent, func.count()).join(Enrollment, Enrollment.id == Message.enrollment_id)
        .where(mine, Message.sent_at.is_not(None)).group_by(sent)).all()))
    human = day(db, Engagement.human_at)
    for kind, series in (("open", "opened"), ("click", "clicked")):
        counts[series].update(dict(db.execute(
            select(human, func.count()).join(Message, Message.id == Engagement.message_id)
            .join(Enrollment, Enrollment.id == Message.enrollment_id)
            .where(mine, Engagement.kind == kind, Engagement.human_at.is_not(None)).group_by(human)).all()))
    journey_messages = set(db.scalars(select(Message.id).join(Enrollment, Enrollment.id == Message.enrollment_id)
                                      .where(mine)))
    revenue: dict[str, Decimal] = {}
    for credit in credits:
        if credit.message_id in journey_messages:
            key = credit.ordered_at.date().isoformat()
            counts["conversions"][key] += 1
            revenue[key] = revenue.get(key, Decimal(0)) + credit.total
    days = _days([k for c in counts.values() for k in c], now)
    series: dict[str, list[Any]] = {name: [counts[name].get(d, 0) for d in days] for name in SERIES[:-1]}
    series["revenue"] = [float(revenue.get(d, Decimal(0))) for d in days]
    return {"days": days, "series": series}


def _days(keys: list[str], now: datetime) -> list[str]:
    """Every day from the first with data to today, at most MAX_DAYS of them."""
    today = now.date()
    first = min((date.fromisoformat(k) for k in keys if k), default=today)
    first = max(first, today - timedelta(days=MAX_DAYS - 1))
    if first > today:
        return [today.isoformat()]
    return [(first + timedelta(days=i)).isoformat() for i in range((today - first).days + 1)]
