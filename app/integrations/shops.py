"""Each shop's webhook conventions, by source kind: its headers and its payload mapping."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable

from app.integrations import shopify, woocommerce
from app.integrations.outcomes import Outcome


def _as_sent(delivery_id: str, body: bytes) -> str:
    return delivery_id


def _with_digest(delivery_id: str, body: bytes) -> str:
    # WooCommerce's delivery id is wp_hash(webhook id . current second): two orders saved in the
    # same second share it. The body's digest keeps them apart; a true repeat has the same body.
    return f"{delivery_id}:{hashlib.sha256(body).hexdigest()[:16]}"


@dataclass(frozen=True)
class Shop:
    name: str
    signature_header: str
    topic_header: str
    delivery_header: str
    map_webhook: Callable[[str, Any], Outcome]
    #: The delivery id we deduplicate on, from the header's value and the raw body.
    delivery_key: Callable[[str, bytes], str]


SHOPS: dict[str, Shop] = {
    "shopify": Shop("Shopify", "X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Webhook-Id",
                    shopify.map_webhook, _as_sent),
    "woocommerce": Shop("WooCommerce", "X-WC-Webhook-Signature", "X-WC-Webhook-Topic", "X-WC-Webhook-Delivery-ID",
                        woocommerce.map_webhook, _with_digest),
}
