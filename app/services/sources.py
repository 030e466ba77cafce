"""Shop sources: created by an admin, each with its own secret and a webhook URL nobody can guess."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import ShopDelivery, Source, SourceKind, User
from app.services import audit

#: Seconds a checkout waits for an order before it is abandoned, unless the source says otherwise.
DEFAULT_CART_WINDOW = 3600
#: The shortest and longest cart-abandonment windows a source may have (seconds).
MIN_CART_WINDOW = 60
MAX_CART_WINDOW = 30 * 24 * 3600
#: Bytes of randomness in a source's URL slug (22 URL-safe characters).
SLUG_BYTES = 16


def create(db: Session, *, kind: SourceKind, name: str, secret: str | None,
           cart_window_seconds: int = DEFAULT_CART_WINDOW, by: str, now: datetime,
           actor: User | None = None) -> Source:
    """A new source (flushed, not committed); ValidationFailed or Conflict says what is wrong."""
    clean = name.strip()
    if not clean or len(clean) > 100 or not clean.isprintable():
        raise ValidationFailed("give the source a name of 1 to 100 printable characters", field="name")
    if secret is None or not secret.strip():
        raise ValidationFailed(f"give the webhook secret {_SECRET_HINT[kind]}", field="secret")
    if len(secret) > 255 or not secret.isprintable():
        raise ValidationFailed("the secret must be at most 255 printable characters", field="secret")
    _check_window(cart_window_seconds)
    if db.scalar(select(Source.id).where(Source.name == clean)) is not None:
        raise Conflict(f"A source named {clean!r} already exists.", field="name")
    row = Source(kind=kind, name=clean, slug=secrets.token_urlsafe(SLUG_BYTES), secret=secret,
                 cart_window_seconds=cart_window_seconds, created_at=now, disabled=False)
    db.add(row)
    db.flush()
    audit.record(db, actor, "source.created", f"source:{row.id}", kind=kind.value, name=clean, by=by)
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


def set_disabled(db: Session, name: str, disabled: bool, *, by: str, actor: User | None = None) -> Source:
    row = db.scalar(select(Source).where(Source.name == name.strip()))
    if row is None:
        raise NotFound(f"No source is named {name!r}; `journeys sources list` shows them.", field="name")
    return _set_disabled(db, row, disabled, by, actor)


def _set_disabled(db: Session, row: Source, disabled: bool, by: str, actor: User | None) -> Source:
    if row.disabled != disabled:
        row.disabled = disabled
        audit.record(db, actor, "source.disabled" if disabled else "source.enabled", f"source:{row.id}", by=by)
    return row


def get(db: Session, source_id: int) -> Source:
    row = db.get(Source, source_id)
    if row is None:
        raise NotFound(f"No source {source_id}.")
    return row


def set_disabled_by_id(db: Session, source_id: int, disabled: bool, *, by: str,
                       actor: User | None = None) -> Source:
    """A disabled source answers 401 to every delivery (the shop sees a failure) until enabled again."""
    return _set_disabled(db, get(db, source_id), disabled, by, actor)


def rotate_secret(db: Session, source_id: int, secret: str | None, *, by: str, actor: User | None = None) -> str:
    """Replace the source's secret; returns it. WooCommerce: one is made when none is given
    (paste it into the webhook); Shopify chooses its own key, so it must be given."""
    row = get(db, source_id)
    if secret is None or not secret.strip():
        if row.kind is not SourceKind.woocommerce:
            raise ValidationFailed(f"give the new secret {_SECRET_HINT[row.kind]}", field="secret")
        secret = new_secret()
    secret = secret.strip()
    if len(secret) > 255 or not secret.isprintable():
        raise ValidationFailed("the secret must be at most 255 printable characters", field="secret")
    row.secret = secret
    audit.record(db, actor, "source.secret_rotated", f"source:{row.id}", by=by)
    return secret


def set_cart_window(db: Session, source_id: int, seconds: int, *, by: str,
                    actor: User | None = None) -> Source:
    row = get(db, source_id)
    _check_window(seconds)
    if row.cart_window_seconds != seconds:
        row.cart_window_seconds = seconds
        audit.record(db, actor, "source.cart_window", f"source:{row.id}", seconds=seconds, by=by)
    return row


def delete(db: Session, source_id: int, *, by: str, actor: User | None = None) -> Source:
    """Remove a disabled source with its delivery records and open carts (a live one must be
    disabled first: deleting it would turn its shop's deliveries into failures at once)."""
    row = get(db, source_id)
    if not row.disabled:
        raise Conflict(f"Disable {row.name!r} first: deleting a source that still receives deliveries makes "
                       "them fail.", field="source")
    audit.record(db, actor, "source.deleted", f"source:{row.id}", kind=row.kind.value, name=row.name, by=by)
    db.delete(row)
    db.flush()
    return row


def _check_window(seconds: int) -> None:
    if not MIN_CART_WINDOW <= seconds <= MAX_CART_WINDOW:
        raise ValidationFailed(f"the cart-abandonment window must be {MIN_CART_WINDOW} to {MAX_CART_WINDOW} "
                               "seconds", field="cart_window_seconds")


_SECRET_HINT = {
    SourceKind.shopify: "Shopify signs with (Settings → Notifications → Webhooks shows it; for an app, "
                        "its client secret)",
    SourceKind.woocommerce: "you will paste into WooCommerce's webhook form (or omit --secret to have one made)",
}


@dataclass(frozen=True)
class Activity:
    """A source's most recent delivery: enough to see that a shop's test notification arrived."""

    last_received_at: datetime | None
    last_topic: str | None
    last_outcome: str | None


def activity(db: Session, source_ids: list[int]) -> dict[int, Activity]:
    """source id → its latest delivery (sources with none are absent)."""
    if not source_ids:
        return {}
    latest = (select(ShopDelivery.source_id, func.max(ShopDelivery.id).label("last"))
              .where(ShopDelivery.source_id.in_(source_ids)).group_by(ShopDelivery.source_id).subquery())
    rows = db.execute(select(ShopDelivery).join(latest, latest.c.last == ShopDelivery.id)).scalars()
    return {r.source_id: Activity(r.received_at, r.topic, r.outcome) for r in rows}
