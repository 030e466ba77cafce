"""A contact's walk through one journey version, and the trace of its steps."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class Enrollment(Base):
    """The database, not Redis, holds where every contact is and when it wakes."""

    __tablename__ = "enrollments"
    __table_args__ = (
        Index("ix_enrollments_due", "status", "wake_at"),
        Index("ix_enrollments_contact_waiting", "contact_id", "waiting_for"),
        Index("ix_enrollments_journey_contact", "journey_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("journey_versions.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    trigger_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # active | waiting | completed | exited
    node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    waiting_for: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: The core's own state (visit counters, A/B assignments, deferrals …), as it serialises it.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Bumped on every stored step; a job carries the value it expects, so a duplicate does nothing.
    step: Mapped[int] = mapped_column(Integer, default=0)
    #: Set while a batch job holds the enrollment; expired claims are re-driven by the reconciler.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    exited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    exit_reason: Mapped[str | None] = mapped_column(String(50), nullable=True)


class EnrollmentStep(Base):
    """One line of "why did this contact (not) get this email": node, outcome, reason."""

    __tablename__ = "enrollment_steps"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    node: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
