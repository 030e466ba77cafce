"""Shoppers: the people journeys are about."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from decimal import Decimal

from sqlalchemy import JSON, Enum, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.models.base import Base, UTCDateTime


class SubscriptionStatus(str, enum.Enum):
    subscribed = "subscribed"
    unconfirmed = "unconfirmed"  # double opt-in pending
    unsubscribed = "unsubscribed"
    never_subscribed = "never_subscribed"


def normalize_email(raw: str) -> str:
    """Lower-cased, trimmed: addresses compare case-insensitively in practice."""
    return raw.strip().lower()


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(35), nullable=True)
    subscription_status: Mapped[SubscriptionStatus] = mapped_column(
        Enum(SubscriptionStatus, native_enum=False, length=20),
        default=SubscriptionStatus.never_subscribed,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Order metrics, kept current by event processing: facts for rules (metrics.*).
    orders_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_spent: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0, server_default="0")
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Set when the contact was erased (GDPR Art. 17): the row stays, pseudonymized, so counts hold.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @validates("email")
    def _normalize(self, _key: str, value: str) -> str:
        return normalize_email(value)
