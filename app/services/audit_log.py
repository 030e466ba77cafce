"""The audit log: writing entries with any actor, reading them filtered and paged, and the one
sanctioned change to an entry: an erasure taking a contact's data out of it.

Entries are never edited otherwise and never deleted by the app (no route or service does);
a database trigger (migration 0008) refuses an UPDATE that does not count itself as a redaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from app.models import AuditEntry

#: Entries per page of the audit page.
PAGE_SIZE = 50


def write(db: Session, *, actor: str, action: str, target: str = "", now: datetime,
          actor_id: int | None = None, **details: Any) -> AuditEntry:
    """Append an entry (flushed by the caller's transaction). `actor`: a user's email, `api:<key
    prefix>`, `cli:<OS user>`, `contact:<id>` for a contact's own action, or `system`."""
    entry = AuditEntry(actor_id=actor_id, actor=actor[:320], action=action[:100], target=target[:300],
                       details=details, at=now)
    db.add(entry)
    return entry


@dataclass(frozen=True)
class Filters:
    actor: str = ""
    action: str = ""
    target: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditEntry]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total


def entries(db: Session, filters: Filters, *, page: int = 1, size: int = PAGE_SIZE) -> AuditPage:
    """Newest first. actor and target match a part; action matches a prefix (`consent.` for all
    consent actions); since/until bound `at` (until exclusive)."""
    number = max(page, 1)
    stmt = select(AuditEntry)
    if filters.actor:
        stmt = stmt.where(AuditEntry.actor.contains(filters.actor.strip(), autoescape=True))
    if filters.action:
        stmt = stmt.where(AuditEntry.action.startswith(filters.action.strip(), autoescape=True))
    if filters.target:
        stmt = stmt.where(AuditEntry.target.contains(filters.target.strip(), autoescape=True))
    if filters.since:
        stmt = stmt.where(AuditEntry.at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEntry.at < filters.until)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                      .limit(size).offset((number - 1) * size))
    return AuditPage(list(rows), total, number, size)


def actions(db: Session) -> list[str]:
    """Every action recorded so far, for the filter's suggestions."""
    return list(db.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def redact(db: Session, found_by: list[str], needles: list[str], replacement: str, *,
           also_target: str | None = None) -> int:
    """Replace every occurrence of `needles` (an address, names) in the entries whose target or
    details contain one of `found_by` (the address: names alone would hit other people's
    entries), or whose target is `also_target`; returns how many entries changed."""
    found_by = [n for n in found_by if n and len(n) >= 3]
    text = cast(AuditEntry.details, String)
    conditions = [c for n in found_by for c in (AuditEntry.target.contains(n, autoescape=True),
                                                  text.contains(n, autoescape=True))]
    if also_target:
        conditions.append(AuditEntry.target == also_target)
    if not conditions or not needles:
        return 0
    changed = 0
    for entry in db.scalars(select(AuditEntry).where(or_(*conditions))):
        target, details = scrub(entry.target, needles, replacement), scrub(entry.details, needles, replacement)
        if target != entry.target or details != entry.details:
            entry.target, entry.details = target, details
            entry.redactions = (entry.redactions or 0) + 1
            changed += 1
    db.flush()
    return changed


def scrub(value: Any, needles: list[str], replacement: str) -> Any:
    """`value` (JSON-shaped) with every needle replaced, case-insensitively, in keys and strings."""
    if isinstance(value, str):
        out = value
        for needle in needles:
            out = _replace(out, needle, replacement)
        return out
    if isinstance(value, list):
        return [scrub(v, needles, replacement) for v in value]
    if isinstance(value, dict):
        return {scrub(k, needles, replacement): scrub(v, needles, replacement) for k, v in value.items()}
    return value


def _replace(text: str, needle: str, replacement: str) -> str:
    return re.sub(re.escape(needle), replacement.replace("\\", "\\\\"), text, flags=re.IGNORECASE)
