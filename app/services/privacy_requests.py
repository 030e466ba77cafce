"""Data-subject requests that reach us from a shop (Shopify's customers/redact, shop/redact,
customers/data_request): recorded here, carried out later.

`record_shop_privacy_request` only writes the request down. It erases and exports nothing:
erasure (GDPR Art. 17) and export (Art. 20) arrive with the compliance work (issue 7), which
will process the rows still `recorded` through the same pipeline as our own GDPR endpoints.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.integrations.outcomes import PrivacyAsk
from app.models import PrivacyRequest, Source, normalize_email


def record_shop_privacy_request(db: Session, source: Source, topic: str, ask: PrivacyAsk,
                                now: datetime) -> PrivacyRequest:
    """Write the request down as `recorded` (flushed, not committed); nothing is erased yet."""
    row = PrivacyRequest(source_id=source.id, kind=ask.kind.value, topic=topic[:100],
                         customer_email=normalize_email(ask.email) if ask.email else None,
                         customer_external_id=ask.external_id, details=ask.details, received_at=now,
                         status="recorded")
    db.add(row)
    db.flush()
    return row


def pending(db: Session) -> list[PrivacyRequest]:
    """Requests nobody has carried out yet, oldest first."""
    return list(db.scalars(select(PrivacyRequest).where(PrivacyRequest.status == "recorded")
                           .order_by(PrivacyRequest.id)))
