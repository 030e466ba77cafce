"""What the core reads as `engagement.*`: the sends of an enrollment its contact opened or clicked.

Only human actions count (app/services/machine_traffic.py): a scanner that follows every
link must not send a contact down the "clicked" branch. Loaded per batch, one indexed query.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Engagement
from app.services.bulk import among

#: engagements.kind → the fact's name.
FACTS = {"open": "opened", "click": "clicked"}


def for_enrollments(db: Session, ids: Sequence[int]) -> dict[int, dict[str, frozenset[str]]]:
    """Per enrollment id: {"opened": send node ids, "clicked": send node ids}; absent: none yet."""
    if not ids:
        return {}
    found: dict[int, dict[str, set[str]]] = {}
    rows = db.execute(select(Engagement.enrollment_id, Engagement.kind, Engagement.node).distinct().where(
        among(db, Engagement.enrollment_id, ids), Engagement.human_at.is_not(None)))
    for enrollment_id, kind, node in rows:
        found.setdefault(enrollment_id, {}).setdefault(FACTS[kind], set()).add(node or "")
    return {ident: {name: frozenset(nodes) for name, nodes in facts.items()} for ident, facts in found.items()}
