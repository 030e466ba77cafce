"""Append entries to the audit log (never updated, never deleted)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app import clock
from app.models import AuditEntry, User


def record(db: Session, actor: User | None, action: str, target: str = "",
           **details: Any) -> AuditEntry:
    entry = AuditEntry(actor_id=actor.id if actor else None,
                       actor=actor.email if actor else "system",
                       action=action, target=target, details=details, at=clock.now())
    db.add(entry)
    return entry
