"""Shop sources: created by an admin, each with its own secret and a webhook URL nobody can guess."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Source, SourceKind
from app.services import audit

#: Seconds a checkout waits for an order before it is abandoned, unless the source says otherwise.
DEFAULT_CART_WINDOW = 3600
#: The shortest and longest cart-abandonment windows a source may have (seconds).
MIN_CART_WINDOW = 60
MAX_CART_WINDOW = 30 * 24 * 3600
#: Bytes of randomness in a source's URL slug (22 URL-safe characters).
SLUG_BYTES = 16


def create(db: Session, *, kind: SourceKind, name: str, secret: str | None,
           cart_window_seconds: int = DEFAULT_CART_WINDOW, by: str, now: datetime) -> Source:
    """A new source (flushed, not committed); ValidationFailed or Conflict says what is wrong."""
    clean = name.strip()
    if not clean or len(clean) > 100 or not clean.isprintable():
        raise ValidationFailed("give the source a name of 1 to 100 printable characters", field="name")
    if secret is None or not secret.strip():
        raise ValidationFailed(f"give the webhook secret {_SECRET_HINT[kind]}", field="secret")
    if len(secret) > 255 or not secret.isprintable():
        raise ValidationFailed("the secret must be at most 255 printable characters", field="secret")
    if not MIN_CART_WINDOW <= cart_window_seconds <= MAX_CART_WINDOW:
        raise ValidationFailed(f"the cart-abandonment window must be {MIN_CART_WINDOW} to {MAX_CART_WINDOW} "
                               "seconds", field="cart_window_seconds")
    if db.scalar(select(Source.id).where(Source.name == clean)) is not None:
        raise Conflict(f"A source named {clean!r} already exists.", field="name")
    row = Source(kind=kind, name=clean, slug=secrets.token_urlsafe(SLUG_BYTES), secret=secret,
                 cart_window_seconds=cart_window_seconds, created_at=now, disabled=False)
    db.add(row)
    db.flush()
    audit.record(db, None, "source.created", f"source:{row.id}", kind=kind.value, name=clean, by=by)
    return row


def new_secret() -> str:
    """A secret for shops that let you choose one (WooCommerce)."""
    return secrets.token_urlsafe(32)


def listing(db: Session) -> list[Source]:
    return list(db.scalars(select(Source).order_by(Source.name)))


def find(db: Session, kind: SourceKind, slug: str) -> Source | None:
    """The enabled source of this kind behind this URL slug, or None."""
    if not slug or len(slug) > 64:
        return None
    return db.scalar(select(Source).where(Source.kind == kind, Source.slug == slug, Source.disabled.is_(False)))


def set_disabled(db: Session, name: str, disabled: bool, *, by: str) -> Source:
    row = db.scalar(select(Source).where(Source.name == name.strip()))
    if row is None:
        raise NotFound(f"No source is named {name!r}; `journeys sources list` shows them.", field="name")
    row.disabled = disabled
    audit.record(db, None, "source.disabled" if disabled else "source.enabled", f"source:{row.id}", by=by)
    return row


_SECRET_HINT = {
    SourceKind.shopify: "Shopify signs with (Settings → Notifications → Webhooks shows it; for an app, "
                        "its client secret)",
    SourceKind.woocommerce: "you will paste into WooCommerce's webhook form (or omit --secret to have one made)",
}
