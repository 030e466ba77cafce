"""The variant an A/B split sends every new contact to, once a winner was chosen."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class SplitWinner(Base):
    __tablename__ = "split_winners"
    __table_args__ = (UniqueConstraint("journey_id", "node"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    #: The ab_split node's id (node ids carry over between versions).
    node: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str] = mapped_column(String(40))
    #: click | conversion: the rate the winner won on.
    metric: Mapped[str] = mapped_column(String(16))
    #: The posterior probability to be best when it was chosen.
    probability: Mapped[float] = mapped_column(Float)
    #: Per variant: recipients and successes when it was chosen.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: "auto" or the person who chose it.
    decided_by: Mapped[str] = mapped_column(String(320))
