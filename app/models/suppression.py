"""Addresses that get nothing: hard bounces, complaints, erasures (hashed, not stored)."""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime
from app.models.contact import normalize_email


def email_digest(email: str) -> str:
    """SHA-256 of the normalised address: an erased contact stays suppressed, unnamed."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


class Suppression(Base):
    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(30))  # bounce | complaint | erasure | manual
    source: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The contact it was made for, while it exists under that address (not for erasures).
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True, index=True)
    #: The provider's diagnostic or the admin's reason, without the address.
    detail: Mapped[str] = mapped_column(String(500), default="", server_default="")
