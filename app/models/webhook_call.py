"""The webhook ledger: one row per outgoing call that a journey's webhook node decided to make."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class WebhookCallStatus(str, enum.Enum):
    queued = "queued"
    sending = "sending"  # leased by a delivery job; committed before the request
    done = "done"        # the receiver answered 2xx
    failed = "failed"    # refused, a final answer, or the attempts ran out: needs an operator


class WebhookCall(Base):
    __tablename__ = "webhook_calls"
    __table_args__ = (
        Index("ix_webhook_calls_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    #: enrollment + node + visit, also sent as Idempotency-Key: a retried step cannot make a second call.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL"), nullable=True, index=True)
    node: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(2000))
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Rendered when the step ran, so every retry sends the same bytes.
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=WebhookCallStatus.queued.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
