"""Reading contacts for the workspace."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Contact

#: Contacts per page in the list.
PAGE_SIZE = 50


@dataclass(frozen=True)
class ContactPage:
    rows: list[Contact]
    total: int
    number: int

    @property
    def has_next(self) -> bool:
        return self.number * PAGE_SIZE < self.total


def search(db: Session, *, query: str = "", page: int = 1) -> ContactPage:
    number = max(page, 1)
    stmt = select(Contact)
    if query:
        stmt = stmt.where(Contact.email.contains(query.lower(), autoescape=True))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(Contact.created_at.desc(), Contact.id.desc())
                      .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
    return ContactPage(rows=list(rows), total=total, number=number)
