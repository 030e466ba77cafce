"""Winners of A/B splits: chosen automatically (the split's auto_winner rule) and handed to the core.

A winner is a row per (journey, split node); the core reads them through `Policy.winners` and
sends every contact that reaches the split for the first time to the winner, while contacts
that already have a variant keep it. Choosing is recorded in the audit log.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import SplitWinner
from app.services import audit_log
from app.services.versions import journey_key
from journeys.state import Policy


def current(db: Session) -> dict[tuple[str, str], str]:
    return {(journey_key(j), node): variant for j, node, variant in db.execute(
        select(SplitWinner.journey_id, SplitWinner.node, SplitWinner.variant))}


def with_winners(db: Session, policy: Policy) -> Policy:
    """`policy` carrying the chosen winners, as the engine and the simulator hand it to the core."""
    winners = current(db)
    return replace(policy, winners=winners) if winners else policy


def of_journey(db: Session, journey_id: int) -> dict[str, SplitWinner]:
    return {w.node: w for w in db.scalars(select(SplitWinner).where(SplitWinner.journey_id == journey_id))}


def choose(db: Session, *, journey_id: int, node: str, variant: str, metric: str, probability: float,
           evidence: dict[str, Any], by: str, now: datetime) -> SplitWinner | None:
    """Record the winner (flushes); None when the split has one already."""
    row = SplitWinner(journey_id=journey_id, node=node, variant=variant, metric=metric,
                      probability=probability, evidence=evidence, decided_at=now, decided_by=by)
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        return None  # another scheduler chose first
    audit_log.write(db, actor=by, action="journey.ab_winner", target=f"journey:{journey_id}", now=now,
                    node=node, variant=variant, metric=metric, probability=round(probability, 4),
                    evidence=evidence)
    db.flush()
    return row
