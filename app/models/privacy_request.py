"""Data-subject requests a shop forwarded (Shopify's mandatory privacy webhooks), kept as a record.

Recording is all that happens for now: erasure and export are carried out by the compliance
work (issue 7), which reads the requests still `recorded` here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class PrivacyRequest(Base):
    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), nullable=True)
    #: erasure | export | shop_erasure
    kind: Mapped[str] = mapped_column(String(20))
    #: The shop's topic, e.g. customers/redact.
    topic: Mapped[str] = mapped_column(String(100))
    customer_email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    customer_external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: What the shop sent besides the customer: order ids, the data request id, the shop's domain.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: recorded (nothing done yet) | done
    status: Mapped[str] = mapped_column(String(16), default="recorded")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: What was done, in a sentence (erased contact 12, export ready on the contact page …).
    outcome: Mapped[str | None] = mapped_column(String(500), nullable=True)
