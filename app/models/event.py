"""Events the shop reports (order placed, checkout started, …)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_contact_id_occurred_at", "contact_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(100), default="api")
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    #: The contact as the sender described it ({"email", "external_id", "attributes", …});
    #: the processor upserts it, in order, before the journeys see the event.
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: Why processing refused the event (it stays processed: a bad event must not block the rest).
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
