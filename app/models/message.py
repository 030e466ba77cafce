"""The message ledger: one row per email that a journey (or the API) decided to send."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class MessageStatus(str, enum.Enum):
    queued = "queued"
    sending = "sending"      # leased by a delivery job; committed before SMTP DATA
    sent = "sent"
    failed = "failed"
    bounced = "bounced"
    complained = "complained"  # the recipient marked it as spam (a feedback-loop report)
    suppressed = "suppressed"
    ambiguous = "ambiguous"  # lease expired mid-send: the server may or may not have it


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_contact_category_sent", "contact_id", "category", "sent_at"),
        Index("ix_messages_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    #: enrollment + node + visit: written once, so a retried step cannot make a second email.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL"), nullable=True, index=True)
    node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("template_versions.id", ondelete="SET NULL"), nullable=True)
    variant: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.queued.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    to_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500), default="")
    provider_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
