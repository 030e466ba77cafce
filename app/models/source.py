"""Shops that send us their webhooks (Shopify, WooCommerce), and the deliveries we have seen."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

BIGINT = BigInteger().with_variant(Integer, "sqlite")

#: Where a shop posts its webhooks; `{kind}` and `{slug}` name the source.
WEBHOOK_PATH = "/api/v1/webhooks/{kind}/{slug}"


class SourceKind(str, enum.Enum):
    shopify = "shopify"
    woocommerce = "woocommerce"


class Source(Base):
    """One shop. Its URL carries a random slug, so the URL alone does not reveal the shop's name."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[SourceKind] = mapped_column(Enum(SourceKind, native_enum=False, length=20))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    #: Stored as given, not hashed: verifying the shop's HMAC needs the secret itself.
    secret: Mapped[str] = mapped_column(String(255))
    #: A checkout with no order from its contact within this many seconds becomes cart_abandoned.
    cart_window_seconds: Mapped[int] = mapped_column(Integer, default=3600, server_default="3600")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A disabled source answers 401 to everything, as an unknown one does.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def webhook_path(self) -> str:
        return WEBHOOK_PATH.format(kind=self.kind.value, slug=self.slug)

    @property
    def label(self) -> str:
        """How stored events name where they came from: `shopify:<name>`."""
        return f"{self.kind.value}:{self.name}"[:100]


class ShopDelivery(Base):
    """A webhook delivery we have handled, kept (at least 7 days) so a late retry is recognised."""

    __tablename__ = "shop_deliveries"
    __table_args__ = (UniqueConstraint("source_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    #: The shop's delivery id (X-Shopify-Webhook-Id; for WooCommerce, its delivery id and a body digest).
    delivery_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: stored | known_event | ignored | unknown_topic | rejected | privacy
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: The event this delivery stored (or matched, for known_event).
    event_id: Mapped[int | None] = mapped_column(BIGINT, nullable=True)
