"""WooCommerce's webhooks as our events: `map_webhook(topic, payload)` is the whole translation.

Payloads are WooCommerce REST API (v3) resources: an order has `status`, `total`, `currency`,
`billing` (with the email), `line_items` and `coupon_lines`; a customer has `email`,
`first_name`, `last_name` and `billing`. `*_gmt` timestamps carry no zone and are UTC.
"""
from __future__ import annotations

import re
from typing import Any

from app.integrations import fields as f
from app.integrations.outcomes import Emit, Ignore, Outcome, TopicMapping, dispatch

#: Order statuses that mean "placed": paid (processing) or done (completed). pending, on-hold and
#: failed orders are not orders yet: a failed payment must not thank anyone or close a cart.
PLACED = frozenset({"processing", "completed"})
#: The body WooCommerce posts when a webhook is saved: form-encoded, unsigned, without a topic.
_PING = re.compile(rb"^webhook_id=\d{1,20}$")


def is_ping(topic: str | None, signature: str | None, body: bytes) -> bool:
    """Whether this is WooCommerce's test ping, which must be answered 200 to save the webhook."""
    return not topic and not signature and bool(_PING.match(body.strip()))


def map_webhook(topic: str, payload: Any) -> Outcome:
    """What the delivery of `topic` with this (parsed JSON) body means for us."""
    return dispatch(TOPICS, topic, payload)


def contact(email: Any, customer_id: Any, names: dict[str, Any], billing: dict[str, Any]) -> dict[str, Any] | None:
    address = f.text(email, 320) or f.text(billing.get("email"), 320)
    # Guests have customer_id 0: no account, so no id to find them by.
    external_id = f.ident(customer_id)
    if address is None and external_id is None:
        return None
    attributes = f.compact({
        "first_name": f.text(names.get("first_name"), 200) or f.text(billing.get("first_name"), 200),
        "last_name": f.text(names.get("last_name"), 200) or f.text(billing.get("last_name"), 200),
        "phone": f.text(billing.get("phone"), 50),
        "country": f.text(billing.get("country"), 2),
    })
    return f.compact({"email": address, "external_id": external_id, "attributes": attributes})


def line_item(item: dict[str, Any]) -> dict[str, Any]:
    return f.compact({
        "title": f.text(item.get("name"), 300),
        "quantity": f.count(item.get("quantity")),
        "price": f.money(item.get("price")),
        "product_id": f.ident(item.get("product_id")),
        "variant_id": f.ident(item.get("variation_id")),
        "sku": f.text(item.get("sku"), 100),
        "image": f.text(f.obj(item.get("image")).get("src"), 2000),
    })


def _order(payload: dict[str, Any]) -> Outcome:
    order_id = f.ident(payload.get("id"))
    status = f.text(payload.get("status"), 50)
    if order_id is None:
        return Ignore("the order has no id")
    if status not in PLACED:
        return Ignore(f"order {order_id} is {status or 'without a status'}; "
                      "order_placed waits until it is processing or completed")
    billing = f.obj(payload.get("billing"))
    who = contact(None, payload.get("customer_id"), billing, billing)
    if who is None:
        return Ignore(f"order {order_id} has no billing email or customer to attach it to")
    codes = (f.text(c.get("code"), 100) for c in f.items(payload.get("coupon_lines")))
    properties = f.compact({
        "order_id": order_id, "order_number": f.text(payload.get("number"), 50),
        "total": f.money(payload.get("total")), "total_discounts": f.money(payload.get("discount_total")),
        "currency": f.text(payload.get("currency"), 10), "status": status,
        "items": [line_item(i) for i in f.items(payload.get("line_items"))],
        "discount_codes": [c for c in codes if c],
    })
    event = f.compact({"event": "order_placed", "contact": who, "properties": properties,
                       "occurred_at": f.timestamp(payload.get("date_created_gmt"), utc_if_naive=True)})
    # order.created and order.updated both reach here for one order: the order id makes them one event.
    return Emit(event, key=f"order:{order_id}")


def _customer_created(payload: dict[str, Any]) -> Outcome:
    customer_id = f.ident(payload.get("id"))
    who = contact(payload.get("email"), customer_id, payload, f.obj(payload.get("billing")))
    if who is None or customer_id is None:
        return Ignore("the customer has no id or email")
    event = f.compact({"event": "customer_created", "contact": who, "properties": {"customer_id": customer_id},
                       "occurred_at": f.timestamp(payload.get("date_created_gmt"), utc_if_naive=True)})
    return Emit(event, key=f"customer:{customer_id}:created")


TOPICS: dict[str, TopicMapping] = {
    "order.created": _order,
    "order.updated": _order,
    "customer.created": _customer_created,
}
