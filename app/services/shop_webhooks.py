"""A shop's webhook delivery, received: verified, deduplicated, translated, stored, then answered.

The signature is checked against the raw bytes before anything is parsed; an unknown source,
a missing or wrong signature changes nothing (401). A delivery id seen before is acknowledged
and ignored. The translation (app/integrations) is pure; here its outcome is applied: events
go through the same ingest path as native ones, privacy requests are recorded, and the
delivery is written down last, so a crash part-way makes the shop's retry finish the job.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import BadRequest, FieldProblem, Unauthorized, ValidationFailed
from app.integrations import signature, woocommerce
from app.integrations.outcomes import Emit, Ignore, Outcome, PrivacyAsk
from app.integrations.shops import SHOPS, Shop
from app.models import ShopDelivery, Source, SourceKind
from app.services import carts, events, privacy_requests, sources
from app.services.event_input import parse

log = logging.getLogger(__name__)

#: Days a delivery id is remembered: Shopify retries for up to 48 hours; a week leaves a margin.
DELIVERY_RETENTION_DAYS = 7
#: Deliveries one pruning statement deletes: short transactions, never a long lock.
PRUNE_CHUNK = 5000
#: The longest delivery id header we accept (Shopify's are UUIDs, WooCommerce's 32 hex digits).
MAX_DELIVERY_ID = 150


@dataclass(frozen=True)
class Receipt:
    """The answer: its HTTP status, and what became of the delivery."""

    status: int
    #: ping | duplicate | stored | known_event | ignored | unknown_topic | rejected | privacy
    outcome: str
    event_id: int | None = None
    detail: str | None = None

    @property
    def stored(self) -> bool:
        return self.outcome == "stored"


def receive(db: Session, kind: SourceKind, slug: str, headers: Mapping[str, str], body: bytes,
            now: datetime) -> Receipt:
    """Handle one delivery to /api/v1/webhooks/<kind>/<slug>; AppError for the 4xx answers."""
    shop = SHOPS[kind.value]
    source = sources.find(db, kind, slug)
    if source is None:
        raise Unauthorized(f"No enabled {shop.name} source has this URL. Copy the path that "
                           f"`journeys sources create {kind.value}` printed.", headers=_challenge(shop))
    topic, signed = _header(headers, shop.topic_header), _header(headers, shop.signature_header)
    if kind is SourceKind.woocommerce and woocommerce.is_ping(topic, signed, body):
        return Receipt(200, "ping")
    _verify(shop, source, signed, body)
    topic = _required(headers, shop.topic_header)
    delivery_id = shop.delivery_key(_required(headers, shop.delivery_header, MAX_DELIVERY_ID), body)
    if _seen(db, source, delivery_id):
        return Receipt(200, "duplicate")
    outcome = shop.map_webhook(topic, _json(body))
    for _ in range(2):
        try:
            return _apply(db, source, topic, delivery_id, outcome, now)
        except IntegrityError:
            db.rollback()  # the same delivery (or checkout) arrived concurrently: look again
            if _seen(db, source, delivery_id):
                return Receipt(200, "duplicate")
    return _apply(db, source, topic, delivery_id, outcome, now)


def _challenge(shop: Shop) -> dict[str, str]:
    return {"WWW-Authenticate": f'HMAC-SHA256 header="{shop.signature_header}"'}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = (headers.get(name) or "").strip()
    return value or None


def _required(headers: Mapping[str, str], name: str, limit: int = 100) -> str:
    value = _header(headers, name)
    if value is None or len(value) > limit or not value.isprintable():
        raise BadRequest(f"The {name} header is missing or malformed; the shop always sends it.",
                         errors=[FieldProblem(f"required, 1 to {limit} printable characters", header=name)])
    return value


def _verify(shop: Shop, source: Source, given: str | None, body: bytes) -> None:
    if given is None:
        raise Unauthorized(f"The {shop.signature_header} header is missing: only signed deliveries are accepted.",
                           errors=[FieldProblem("missing", header=shop.signature_header)], headers=_challenge(shop))
    if not signature.matches(source.secret, body, given):
        raise Unauthorized(f"The {shop.signature_header} signature does not match this body: check that the "
                           f"secret of source {source.name!r} is the one {shop.name} signs with.",
                           errors=[FieldProblem("does not match the body", header=shop.signature_header)],
                           headers=_challenge(shop))


def _seen(db: Session, source: Source, delivery_id: str) -> bool:
    return db.scalar(select(ShopDelivery.id).where(ShopDelivery.source_id == source.id,
                                                   ShopDelivery.delivery_id == delivery_id)) is not None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(f"The body is not valid JSON ({exc}).",
                         errors=[FieldProblem("not valid JSON", pointer="")]) from None


def _apply(db: Session, source: Source, topic: str, delivery_id: str, outcome: Outcome,
           now: datetime) -> Receipt:
    """Carry out the outcome and record the delivery, in that order (commits)."""
    if isinstance(outcome, Emit):
        receipt = _store(db, source, delivery_id, outcome, now)
    elif isinstance(outcome, PrivacyAsk):
        privacy_requests.record_shop_privacy_request(db, source, topic, outcome, now)
        receipt = Receipt(200, "privacy", detail=f"{outcome.kind.value} request recorded")
    else:
        _note_cart(db, source, outcome, None, now)
        receipt = Receipt(200, "unknown_topic" if outcome.unknown_topic else "ignored", detail=outcome.reason)
    db.add(ShopDelivery(source_id=source.id, delivery_id=delivery_id, topic=topic[:100], received_at=now,
                        outcome=receipt.outcome, detail=(receipt.detail or "")[:500] or None,
                        event_id=receipt.event_id))
    db.commit()
    return receipt


def _store(db: Session, source: Source, delivery_id: str, outcome: Emit, now: datetime) -> Receipt:
    try:
        data = parse(outcome.event)
    except ValidationFailed as exc:
        # Signed, so it is the shop's: retrying cannot make it valid. Acknowledge and say why.
        log.warning("%s delivery %s refused: %s", source.label, delivery_id, exc.detail)
        return Receipt(200, "rejected", detail=exc.detail)
    key = f"{source.kind.value}:{source.slug}:{outcome.key or 'delivery:' + delivery_id}"
    stored = events.ingest(db, data, source=source.label, now=now, idempotency_key=key)  # commits the event
    if data.event == "order_placed":
        carts.cancel_for_contact(db, data.contact.model_dump(exclude_none=True), now)
    _note_cart(db, source, outcome, data, now)
    if stored.duplicate:
        return Receipt(200, "known_event", event_id=stored.event_id,
                       detail=f"already stored as event {stored.event_id}")
    return Receipt(202, "stored", event_id=stored.event_id, detail=data.event)


def _note_cart(db: Session, source: Source, outcome: Emit | Ignore, data: Any, now: datetime) -> None:
    if outcome.cart is None:
        return
    if outcome.cart.open and data is not None:
        carts.note_open(db, source, outcome.cart.token, data, now)
    elif not outcome.cart.open:
        carts.close(db, source, outcome.cart.token, now)


def prune_deliveries(db: Session, now: datetime, days: int = DELIVERY_RETENTION_DAYS) -> int:
    """Forget deliveries older than `days` (commits per chunk); returns how many."""
    cutoff, deleted = now - timedelta(days=days), 0
    while True:
        ids = list(db.scalars(select(ShopDelivery.id).where(ShopDelivery.received_at < cutoff).limit(PRUNE_CHUNK)))
        if not ids:
            return deleted
        result = db.execute(delete(ShopDelivery).where(ShopDelivery.id.in_(ids)))
        deleted += result.rowcount or 0  # type: ignore[attr-defined]
        db.commit()
