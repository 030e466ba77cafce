"""The hosts an admin allows webhook nodes to call: nothing else is ever requested."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class WebhookHost(Base):
    __tablename__ = "webhook_hosts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: A host name or IP address, or `*.example.com` (its subdomains); stored normalised.
    pattern: Mapped[str] = mapped_column(String(255), unique=True)
    added_by: Mapped[str] = mapped_column(String(320))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
