"""Shopify's webhooks as our events: `map_webhook(topic, payload)` is the whole translation.

Field names follow Shopify's documented webhook payloads (Admin REST shape): orders carry
`line_items`, `total_price`, `discount_codes` and a `customer`; checkouts carry `token` and
`abandoned_checkout_url`; customers carry `email_marketing_consent` (older API versions:
`accepts_marketing`). Money stays a decimal string, ids become strings.
"""
from __future__ import annotations

from typing import Any

from app.integrations import fields as f
from app.integrations.outcomes import (CartNote, Emit, Ignore, Outcome, PrivacyAsk, PrivacyKind, TopicMapping,
                                       dispatch)

#: Shopify's email_marketing_consent.state → our marketing consent. pending (Shopify's own double
#: opt-in under way), not_subscribed, redacted and invalid set nothing: the contact keeps its state.
CONSENT_STATES = {"subscribed": "subscribed", "unsubscribed": "unsubscribed"}


def map_webhook(topic: str, payload: Any) -> Outcome:
    """What the delivery of `topic` with this (parsed JSON) body means for us."""
    return dispatch(TOPICS, topic, payload)


def consent(customer: dict[str, Any]) -> str | None:
    """Our marketing consent from a Shopify customer, or None to leave the contact's as it is."""
    state = f.obj(customer.get("email_marketing_consent")).get("state")
    if isinstance(state, str):
        return CONSENT_STATES.get(state)
    # API versions before 2022-04 have only the boolean; false says "not opted in", not "opted out".
    return "subscribed" if customer.get("accepts_marketing") is True else None


def contact(payload: dict[str, Any], customer: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Our contact from an order, checkout or customer payload; None when it names nobody."""
    customer = f.obj(payload.get("customer")) if customer is None else customer
    email = f.text(customer.get("email"), 320) or f.text(payload.get("email"), 320) \
        or f.text(payload.get("contact_email"), 320)
    external_id = f.ident(customer.get("id"))
    if email is None and external_id is None:
        return None
    address = f.obj(customer.get("default_address")) or f.obj(payload.get("billing_address")) \
        or f.obj(payload.get("shipping_address"))
    attributes = f.compact({
        "first_name": f.text(customer.get("first_name"), 200) or f.text(address.get("first_name"), 200),
        "last_name": f.text(customer.get("last_name"), 200) or f.text(address.get("last_name"), 200),
        "phone": f.text(customer.get("phone"), 50) or f.text(payload.get("phone"), 50)
        or f.text(address.get("phone"), 50),
        "country": f.text(address.get("country_code"), 2),
    })
    marketing = consent(customer)
    return f.compact({
        "email": email, "external_id": external_id, "attributes": attributes,
        "locale": f.locale(payload.get("customer_locale")) or f.locale(customer.get("locale")),
        "timezone": f.timezone(customer.get("timezone")) or f.timezone(customer.get("time_zone")),
        "consent": {"marketing": marketing} if marketing else None,
    })


def line_item(item: dict[str, Any]) -> dict[str, Any]:
    image = item.get("image")
    return f.compact({
        "title": f.text(item.get("title"), 300) or f.text(item.get("name"), 300),
        "quantity": f.count(item.get("quantity")),
        "price": f.money(item.get("price")),
        "product_id": f.ident(item.get("product_id")),
        "variant_id": f.ident(item.get("variant_id")),
        "sku": f.text(item.get("sku"), 100),
        "image": f.text(f.obj(image).get("src") if isinstance(image, dict) else image, 2000),
    })


def _discount_codes(payload: dict[str, Any]) -> list[str]:
    codes = (f.text(d.get("code"), 100) for d in f.items(payload.get("discount_codes")))
    return [c for c in codes if c]


def _event(name: str, who: dict[str, Any], properties: dict[str, Any], at: Any) -> dict[str, Any]:
    return f.compact({"event": name, "contact": who, "properties": f.compact(properties),
                      "occurred_at": f.timestamp(at)})


def _order(payload: dict[str, Any]) -> Outcome:
    order_id = f.ident(payload.get("id"))
    who = contact(payload)
    if order_id is None or who is None:
        return Ignore("the order has no id, or no email or customer to attach it to")
    token = f.text(payload.get("checkout_token"), 255)
    properties = {
        "order_id": order_id, "order_number": f.count(payload.get("order_number")),
        "name": f.text(payload.get("name"), 100), "total": f.money(payload.get("total_price")),
        "subtotal": f.money(payload.get("subtotal_price")),
        "total_discounts": f.money(payload.get("total_discounts")),
        "currency": f.text(payload.get("currency"), 10),
        "items": [line_item(i) for i in f.items(payload.get("line_items"))],
        "discount_codes": _discount_codes(payload), "checkout_token": token,
        "order_status_url": f.text(payload.get("order_status_url"), 2000),
    }
    return Emit(_event("order_placed", who, properties, payload.get("created_at")), key=f"order:{order_id}",
                cart=CartNote(token, open=False) if token else None)


def _checkout(name: str) -> TopicMapping:
    def mapping(payload: dict[str, Any]) -> Outcome:
        token = f.text(payload.get("token"), 255)
        if token is None:
            return Ignore("the checkout has no token")
        if payload.get("completed_at"):
            return Ignore(f"checkout {token} is completed; its order arrives as orders/create",
                          cart=CartNote(token, open=False))
        who = contact(payload)
        if who is None or "email" not in who:
            return Ignore(f"checkout {token} has no email yet; Shopify sends checkouts/update once it has")
        properties = {
            "checkout_token": token, "cart_token": f.text(payload.get("cart_token"), 255),
            "total": f.money(payload.get("total_price")), "subtotal": f.money(payload.get("subtotal_price")),
            "currency": f.text(payload.get("currency") or payload.get("presentment_currency"), 10),
            "items": [line_item(i) for i in f.items(payload.get("line_items"))],
            "discount_codes": _discount_codes(payload),
            "abandoned_checkout_url": f.text(payload.get("abandoned_checkout_url"), 2000),
        }
        at = payload.get("created_at") if name == "checkout_started" else payload.get("updated_at")
        return Emit(_event(name, who, properties, at), cart=CartNote(token, open=True))

    return mapping


def _customer(name: str) -> TopicMapping:
    def mapping(payload: dict[str, Any]) -> Outcome:
        who = contact(payload, customer=payload)
        customer_id = f.ident(payload.get("id"))
        if who is None or customer_id is None:
            return Ignore("the customer has no id")
        at = payload.get("created_at") if name == "customer_created" else payload.get("updated_at")
        event = _event(name, who, {"customer_id": customer_id}, at)
        # customers/create happens once per customer; every update is its own event.
        return Emit(event, key=f"customer:{customer_id}:created" if name == "customer_created" else None)

    return mapping


def _consent_update(payload: dict[str, Any]) -> Outcome:
    customer = {"id": payload.get("customer_id"), "email": payload.get("email_address"),
                "email_marketing_consent": payload.get("email_marketing_consent")}
    who = contact({}, customer=customer)
    if who is None:
        return Ignore("the consent update names no customer")
    return Emit(_event("customer_updated", who, {"customer_id": who.get("external_id")}, None))


def _privacy(kind: PrivacyKind, *detail_names: str) -> TopicMapping:
    def mapping(payload: dict[str, Any]) -> Outcome:
        customer = f.obj(payload.get("customer"))
        details = {name: payload[name] for name in ("shop_id", "shop_domain", *detail_names) if name in payload}
        return PrivacyAsk(kind, f.text(customer.get("email"), 320), f.ident(customer.get("id")), details)

    return mapping


TOPICS: dict[str, TopicMapping] = {
    "orders/create": _order,
    "checkouts/create": _checkout("checkout_started"),
    "checkouts/update": _checkout("checkout_updated"),
    "customers/create": _customer("customer_created"),
    "customers/update": _customer("customer_updated"),
    "customers_email_marketing_consent/update": _consent_update,
    "customers/redact": _privacy(PrivacyKind.erasure, "orders_to_redact"),
    "customers/data_request": _privacy(PrivacyKind.export, "orders_requested", "data_request"),
    "shop/redact": _privacy(PrivacyKind.shop_erasure),
}
