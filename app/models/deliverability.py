"""DKIM keys made in Settings, and the complaint guard's alerts on journeys."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class DkimKey(Base):
    """A signing key generated in Settings (DKIM_PRIVATE_KEY_PATH, when set, wins over these)."""

    __tablename__ = "dkim_keys"
    __table_args__ = (UniqueConstraint("domain", "selector"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253))
    selector: Mapped[str] = mapped_column(String(63))
    #: PEM (PKCS#8). Kept in the database so every worker on every machine signs alike.
    private_key: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(320))


class JourneyAlert(Base):
    """The complaint guard warned about a journey, or paused it; open until cleared."""

    __tablename__ = "journey_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    #: warning (the rate reached the warning threshold) | paused (it reached the pause threshold)
    level: Mapped[str] = mapped_column(String(16))
    complaints: Mapped[int] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(Integer)
    rate: Mapped[float] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Counting starts afresh after this (an admin dismissed the alert or resumed the journey).
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cleared_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
