"""Open and click tracking: the links stored when a message was rendered, every hit, and the
first (unique) action per message and link.

A click token names a `message_links` row by its key (message, position) and carries no URL,
so the tracker can only ever redirect to a URL our renderer stored. Rows hold no address and
no IP; the user agent kept for the record is erased with the contact.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

BIGINT = BigInteger().with_variant(Integer, "sqlite")

#: `position` of an open in `engagements` (links count from 1).
OPEN_POSITION = 0


class MessageLink(Base):
    """One link of one rendered message: position 1 is the first URL the render rewrote."""

    __tablename__ = "message_links"

    message_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("messages.id", ondelete="CASCADE"),
                                            primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The personalised URL as rendered; emptied when the contact is erased.
    url: Mapped[str] = mapped_column(Text)


class TrackingHit(Base):
    """Every open and every click, for totals and timelines; `machine` says why one looks automated."""

    __tablename__ = "tracking_hits"
    __table_args__ = (Index("ix_tracking_hits_message_id_kind", "message_id", "kind"),
                      Index("ix_tracking_hits_at", "at"))

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    message_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("messages.id", ondelete="CASCADE"))
    #: open | click
    kind: Mapped[str] = mapped_column(String(8))
    #: The link clicked (1…); None for an open.
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: None: a person, as far as can be told; else the reason (apple_proxy, prefetch, scanner, …).
    machine: Mapped[str | None] = mapped_column(String(40), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)


class Engagement(Base):
    """A unique action: the first open of a message, the first click of each of its links.

    `human_at` is the first hit not flagged as a machine's; the email_opened/email_clicked
    event fires when it is set, once. Enrollment and node are copied from the message, so the
    engine reads "has this enrollment clicked (at this send node)?" with one indexed query.
    """

    __tablename__ = "engagements"
    __table_args__ = (UniqueConstraint("message_id", "kind", "position"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    message_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("messages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer, default=OPEN_POSITION)
    enrollment_id: Mapped[int | None] = mapped_column(
        BIGINT, ForeignKey("enrollments.id", ondelete="SET NULL"), nullable=True, index=True)
    node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    human_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
