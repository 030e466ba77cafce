"""Rows for tests, made through the models (no SQL strings)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from app.models import Contact, Enrollment, Journey, JourneyStatus, JourneyVersion, SubscriptionStatus

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

SIMPLE_GRAPH: dict[str, Any] = {
    "schema": 1, "settings": {},
    "nodes": [{"id": "start", "type": "trigger", "config": {"event": "signup"}},
              {"id": "w", "type": "wait", "config": {"duration": "P1D"}},
              {"id": "end", "type": "exit"}],
    "edges": [{"from": "start", "to": "w"}, {"from": "w", "to": "end"}],
}


def contact(s: Session, email: str, **kw: Any) -> Contact:
    row = Contact(email=email, attributes=kw.pop("attributes", {}), tags=kw.pop("tags", []),
                  subscription_status=kw.pop("status", SubscriptionStatus.subscribed),
                  created_at=T0, updated_at=T0, **kw)
    s.add(row)
    s.flush()
    return row


def published_journey(s: Session, graph: dict[str, Any] | None = None, name: str = "Test") -> JourneyVersion:
    journey = Journey(name=name, status=JourneyStatus.active, draft=graph or SIMPLE_GRAPH,
                      created_at=T0, updated_at=T0)
    s.add(journey)
    s.flush()
    version = JourneyVersion(journey_id=journey.id, number=1, graph=graph or SIMPLE_GRAPH,
                             published_at=T0)
    s.add(version)
    s.flush()
    return version


def waiting(s: Session, version: JourneyVersion, contact_row: Contact, wake_at: datetime,
            node: str = "w") -> Enrollment:
    row = Enrollment(journey_id=version.journey_id, version_id=version.id, contact_id=contact_row.id,
                     status="waiting", node=node, wake_at=wake_at, state={}, step=1,
                     entered_at=T0, updated_at=T0)
    s.add(row)
    s.flush()
    return row
