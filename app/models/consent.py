"""Consent records: every change of a contact's consent, as a new row (the contact keeps the current one)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

#: Where a change came from.
SOURCES = ("webhook", "import", "form", "api", "link", "confirmation", "admin", "bounce", "complaint",
           "erasure")


class ConsentRecord(Base):
    """Proof of consent: who said what about which category, when, how and with what wording.

    Rows are only ever added; `contacts.subscription_status` holds the latest for fast checks.
    """

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    #: marketing (transactional mail needs no consent, so it has no records).
    category: Mapped[str] = mapped_column(String(30))
    #: subscribed | unconfirmed | unsubscribed | never_subscribed
    status: Mapped[str] = mapped_column(String(20))
    #: One of SOURCES.
    source: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: The version of the wording the contact saw (a form's consent text, a confirmation email).
    wording: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: What else is known: the event source, the message an unsubscribe came from, a reason.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
