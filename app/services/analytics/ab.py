"""A/B results per split: click and conversion rates per variant, the probability that each
variant is best (Beta posteriors, journeys/stats.py), a z-test against the first variant, and
the automatic winner.

A variant's recipients are the enrollments that received at least one email from a send
node after the split's port for that variant (up to the next split), with that variant on the
message. A recipient clicked when a person clicked such an email, converted when an order was
credited to one (last touch, the attribution windows). Until every variant has the split's
minimum sample (auto_winner.min_recipients, default 500) the result says "not enough data yet".
"""
from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Engagement, Enrollment, Journey, JourneyStatus, Message
from app.services import split_winners
from app.services.analytics.attribution import CreditRow
from journeys.nodes.ab_split import AutoWinner, SplitConfig
from journeys.stats import Rate, probability_to_be_best, two_proportion_z_test

DEFAULT_RULE = AutoWinner()
ACTOR = "auto winner"


@dataclass
class VariantResult:
    key: str
    label: str | None
    weight: float
    recipients: int = 0
    clicked: int = 0
    converted: int = 0
    revenue: Decimal = field(default_factory=Decimal)
    click_rate: float | None = None
    conversion_rate: float | None = None
    p_best_click: float | None = None
    p_best_conversion: float | None = None
    z_click: dict[str, float] | None = None  # against the first variant
    z_conversion: dict[str, float] | None = None


@dataclass
class SplitResult:
    node: str
    variants: list[VariantResult]
    rule: AutoWinner
    auto: bool
    enough_data: bool
    winner: dict[str, Any] | None
    leader: str | None  # the variant most likely best on the rule's metric, once there is enough data

    @property
    def status(self) -> str:
        if self.winner:
            return "winner"
        return "collecting" if not self.enough_data else "running"


def split_nodes(graph: dict[str, Any]) -> dict[str, tuple[SplitConfig, dict[str, set[str]]]]:
    """Each ab_split node: its config and, per variant, the send nodes it leads to."""
    nodes = {n["id"]: n for n in graph.get("nodes", []) if isinstance(n, dict) and "id" in n}
    out: dict[str, list[tuple[str | None, str]]] = {}
    for edge in graph.get("edges", []):
        if isinstance(edge, dict):
            out.setdefault(edge.get("from"), []).append((edge.get("port"), edge.get("to")))
    found = {}
    for node_id, node in nodes.items():
        if node.get("type") != "ab_split":
            continue
        try:
            config = SplitConfig.model_validate(node.get("config") or {})
        except ValidationError:
            continue  # a draft's unfinished split (a published one always validates)
        reach = {v.key: _sends_after(nodes, out, [t for p, t in out.get(node_id, []) if p == v.key])
                 for v in config.variants}
        found[node_id] = (config, reach)
    return found


def _sends_after(nodes: dict[str, Any], out: dict[str, list[tuple[str | None, str]]], start: list[str]) -> set[str]:
    seen, stack, sends = set(), list(start), set()
    while stack:
        node_id = stack.pop()
        if node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        kind = nodes[node_id].get("type")
        if kind == "ab_split":
            continue  # a later split's variants are its own test
        if kind == "send":
            sends.add(node_id)
        stack += [t for _, t in out.get(node_id, [])]
    return sends


def results(db: Session, journey: Journey, graph: dict[str, Any] | None,
            credits: Iterable[CreditRow]) -> list[SplitResult]:
    if not graph:
        return []
    splits = split_nodes(graph)
    if not splits:
        return []
    all_sends = {n for _, reach in splits.values() for nodes in reach.values() for n in nodes}
    sent = db.execute(select(Message.id, Message.enrollment_id, Message.node, Message.variant)
                      .join(Enrollment, Enrollment.id == Message.enrollment_id)
                      .where(Enrollment.journey_id == journey.id, Message.sent_at.is_not(None),
                             Message.node.in_(sorted(all_sends)))).all()
    ids = [r.id for r in sent]
    clicked = set(db.scalars(select(Engagement.message_id).distinct().where(
        Engagement.message_id.in_(ids), Engagement.kind == "click", Engagement.human_at.is_not(None)))) if ids else set()
    credited: dict[int, Decimal] = {}
    for credit in credits:
        credited[credit.message_id] = credited.get(credit.message_id, Decimal(0)) + credit.total
    winners = split_winners.of_journey(db, journey.id)
    return [_result(node, config, reach, sent, clicked, credited, winners.get(node))
            for node, (config, reach) in splits.items()]


def _result(node: str, config: SplitConfig, reach: dict[str, set[str]], sent: list[Any], clicked: set[int],
            credited: dict[int, Decimal], winner: Any) -> SplitResult:
    variants = []
    for variant in config.variants:
        mine = [r for r in sent if r.variant == variant.key and r.node in reach[variant.key]]
        recipients = {r.enrollment_id for r in mine}
        result = VariantResult(variant.key, variant.label, variant.weight, len(recipients),
                               len({r.enrollment_id for r in mine if r.id in clicked}),
                               len({r.enrollment_id for r in mine if r.id in credited}),
                               sum((credited.get(r.id, Decimal(0)) for r in mine), Decimal(0)))
        variants.append(result)
    rule = config.auto_winner or DEFAULT_RULE
    enough = all(v.recipients >= rule.min_recipients for v in variants)
    _statistics(node, variants)
    leader = None
    if enough:
        metric = "p_best_click" if rule.metric == "click" else "p_best_conversion"
        leader = max(variants, key=lambda v: getattr(v, metric) or 0.0).key
    found = None
    if winner is not None:
        found = {"variant": winner.variant, "metric": winner.metric, "probability": winner.probability,
                 "decided_at": winner.decided_at.isoformat(), "decided_by": winner.decided_by}
    return SplitResult(node, variants, rule, config.auto_winner is not None, enough, found, leader)


def _statistics(node: str, variants: list[VariantResult]) -> None:
    for metric in ("click", "conversion"):
        rates = [Rate(getattr(v, "clicked" if metric == "click" else "converted"), v.recipients) for v in variants]
        for v, r in zip(variants, rates):
            setattr(v, f"{metric}_rate", r.value)
        if any(r.trials == 0 for r in rates):
            continue
        # Seeded by what it is computed from: the same counts give the same answer everywhere.
        rng = random.Random(f"{node}:{metric}:{[(r.successes, r.trials) for r in rates]}")
        for v, p in zip(variants, probability_to_be_best(rates, rng)):
            setattr(v, f"p_best_{metric}", p)
        for v, r in zip(variants[1:], rates[1:]):
            test = two_proportion_z_test(rates[0], r)
            if test is not None:
                setattr(v, f"z_{metric}", {"z": test.z, "p_value": test.p_value, "difference": test.difference})


def choose_winners(db: Session, now: datetime, credits_for: Any) -> list[tuple[int, str, str]]:
    """The automatic winners of active journeys' splits that reached their rule; flushes.

    `credits_for(journey_id)` gives the journey's credited orders (for conversion rules)."""
    from app.services.journeys import live_version

    chosen = []
    for journey in db.scalars(select(Journey).where(Journey.status == JourneyStatus.active)):
        version = live_version(db, journey)
        graph = version.graph if version else None
        splits = split_nodes(graph) if graph else {}
        pending = [n for n, (c, _) in splits.items() if c.auto_winner is not None]
        decided = split_winners.of_journey(db, journey.id)
        if not [n for n in pending if n not in decided]:
            continue
        needs_orders = any(splits[n][0].auto_winner.metric == "conversion" for n in pending)  # type: ignore[union-attr]
        for result in results(db, journey, graph, credits_for(journey.id) if needs_orders else []):
            if not result.auto or result.winner or not result.enough_data or result.leader is None:
                continue
            best = next(v for v in result.variants if v.key == result.leader)
            probability = (best.p_best_click if result.rule.metric == "click" else best.p_best_conversion) or 0.0
            if probability < result.rule.probability:
                continue
            evidence = {v.key: {"recipients": v.recipients, "clicked": v.clicked, "converted": v.converted}
                        for v in result.variants}
            if split_winners.choose(db, journey_id=journey.id, node=result.node, variant=best.key,
                                    metric=result.rule.metric, probability=probability, evidence=evidence,
                                    by=ACTOR, now=now):
                chosen.append((journey.id, result.node, best.key))
    return chosen
