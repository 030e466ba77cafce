"""Bounce and complaint notifications from mail providers, one row each (addresses hashed)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class BounceKind(str, enum.Enum):
    hard = "hard"            # the address does not exist or never will accept: suppressed at once
    soft = "soft"            # a full mailbox, a server down: suppressed after repeats
    complaint = "complaint"  # the recipient marked the mail as spam: suppressed at once


class BounceEvent(Base):
    __tablename__ = "bounce_events"
    __table_args__ = (Index("ix_bounce_events_email_hash_kind_received_at", "email_hash", "kind", "received_at"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    #: SHA-256 of the address (app.models.suppression.email_digest): counted, never named.
    email_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    #: ses | sendgrid | postmark | dsn
    provider: Mapped[str] = mapped_column(String(20))
    #: Our message, when the notification names it (Message-ID, provider id).
    message_id: Mapped[int | None] = mapped_column(
        BIGINT, ForeignKey("messages.id", ondelete="SET NULL"), nullable=True, index=True)
    #: The provider's status code and text, without the address.
    diagnostic: Mapped[str] = mapped_column(String(500), default="")
    #: The provider's id of this notification: a retried delivery counts once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
