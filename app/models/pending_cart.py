"""Checkouts waiting to see whether an order follows: the database is the cart-abandonment timer."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class CartState(str, enum.Enum):
    open = "open"            # waiting for due_at
    emitted = "emitted"      # cart_abandoned was stored; never again for this checkout
    cancelled = "cancelled"  # an order came first (or the checkout completed)


class PendingCart(Base):
    __tablename__ = "pending_carts"
    __table_args__ = (
        UniqueConstraint("source_id", "checkout_token"),
        Index("ix_pending_carts_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    checkout_token: Mapped[str] = mapped_column(String(255))
    # The contact as the shop named it: the contact row may not exist yet when the webhook arrives.
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    contact_external_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    #: When the shop says the checkout began: an order placed after this cancels the cart.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The latest checkout event's contact and properties: what cart_abandoned will carry.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=CartState.open.value)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    emitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The cart_abandoned event, once stored.
    event_id: Mapped[int | None] = mapped_column(BIGINT, nullable=True)
