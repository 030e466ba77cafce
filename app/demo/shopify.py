"""Shopify-shaped webhook bodies for the demo shop: customers/create, checkouts/create and
checkouts/update, orders/create.

The shapes follow Shopify's documented Admin REST payloads (the samples in
tests/fixtures/shopify/), trimmed to what a real delivery always carries plus what our
mapping reads (app/integrations/shopify.py): the loader turns its order history into events
through the same mapping, and the traffic generator posts these bodies, signed, to the
running app.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Sequence

from app.demo import catalog
from app.demo.population import Line, Person

#: The demo shop's Shopify domain and its numeric id (in order and checkout links).
SHOP_DOMAIN = "alder-and-stone.myshopify.com"
SHOP_ID = 548380009
#: Shopify's email_marketing_consent.state for each of our consent states.
CONSENT_STATE = {"subscribed": "subscribed", "unsubscribed": "unsubscribed", "unconfirmed": "pending",
                 "none": "not_subscribed"}


@dataclass(frozen=True)
class Shopper:
    """A Shopify customer, as the payloads name them."""
    customer_id: int
    email: str
    first_name: str
    last_name: str
    country_code: str
    country: str
    city: str
    province: str | None
    phone: str
    locale: str

    @classmethod
    def of(cls, person: Person) -> Shopper:
        return cls(person.customer_id, person.email, person.first_name, person.last_name, person.country.code,
                   person.country.name, person.city, person.province, person.phone, person.locale)


def stamp(at: datetime) -> str:
    """Shopify's timestamps: seconds, with the offset."""
    return at.replace(microsecond=0).isoformat()


def _token(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _address(who: Shopper) -> dict[str, Any]:
    return {"first_name": who.first_name, "last_name": who.last_name, "address1": "", "address2": None,
            "city": who.city, "province": who.province, "province_code": who.province, "country": who.country,
            "country_code": who.country_code, "country_name": who.country, "zip": None, "phone": who.phone,
            "name": f"{who.first_name} {who.last_name}", "company": None, "default": True}


def customer(who: Shopper, at: datetime, consent: str | None) -> dict[str, Any]:
    """A customer object (the customers/create body, and the `customer` of orders and checkouts).

    `consent`: our state (subscribed, unsubscribed, unconfirmed, none), or None to leave the
    consent out, as an order's customer does for a shopper whose consent is not the news."""
    body: dict[str, Any] = {
        "id": who.customer_id, "email": who.email, "created_at": stamp(at), "updated_at": stamp(at),
        "first_name": who.first_name, "last_name": who.last_name, "state": "enabled", "note": None,
        "verified_email": True, "multipass_identifier": None, "tax_exempt": False, "phone": None,
        "currency": "EUR", "tags": "", "tax_exemptions": [],
        "admin_graphql_api_id": f"gid://shopify/Customer/{who.customer_id}",
        "default_address": {"id": who.customer_id + 1, "customer_id": who.customer_id, **_address(who)},
    }
    if consent is not None:
        body["email_marketing_consent"] = {"state": CONSENT_STATE[consent], "opt_in_level": "single_opt_in",
                                           "consent_updated_at": stamp(at)}
    return body


def _line_items(lines: Sequence[Line], base_url: str, seed: object) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(lines):
        product = line.product
        price = f"{product.price:.2f}"
        items.append({
            "id": int(_token("line", seed, n)[:15], 16), "key": _token("key", seed, n),
            "product_id": product.product_id, "variant_id": product.variant_id, "sku": product.sku,
            "title": product.title, "name": product.title, "variant_title": None, "vendor": "Alder & Stone",
            "quantity": line.quantity, "price": price, "line_price": f"{product.price * line.quantity:.2f}",
            "grams": product.grams, "requires_shipping": True, "taxable": True, "gift_card": False,
            "fulfillment_service": "manual", "properties": [], "total_discount": "0.00", "tax_lines": [],
            # Themes and apps add the picture: our mapping carries it to the cart and order emails.
            "image": {"src": catalog.image_url(base_url, product.sku)},
        })
    return items


def _money(lines: Sequence[Line], discount_code: str | None) -> dict[str, str]:
    subtotal = sum((line.product.price * line.quantity for line in lines), Decimal("0"))
    discount = (subtotal / 10).quantize(Decimal("0.01")) if discount_code else Decimal("0.00")
    shipping = Decimal("0.00") if subtotal >= catalog.FREE_SHIPPING_FROM else catalog.SHIPPING
    return {"total_line_items_price": f"{subtotal:.2f}", "subtotal_price": f"{subtotal - discount:.2f}",
            "total_discounts": f"{discount:.2f}", "total_price": f"{subtotal - discount + shipping:.2f}",
            "total_tax": "0.00", "shipping": f"{shipping:.2f}"}


def checkout(who: Shopper, token: str, lines: Sequence[Line], *, created_at: datetime, updated_at: datetime,
             base_url: str, shop_url: str, discount_code: str | None = None) -> dict[str, Any]:
    """A checkouts/create or checkouts/update body (the shopper has given their email)."""
    money = _money(lines, discount_code)
    return {
        "token": token, "cart_token": _token("cart", token), "email": who.email, "gateway": None,
        "buyer_accepts_marketing": False, "created_at": stamp(created_at), "updated_at": stamp(updated_at),
        "landing_site": "/", "note": None, "note_attributes": [], "referring_site": None,
        "taxes_included": True, "currency": "EUR", "presentment_currency": "EUR", "completed_at": None,
        "closed_at": None, "customer_locale": who.locale, "phone": None, "source_name": "web",
        "name": f"#{int(token[:12], 16)}", "line_items": _line_items(lines, base_url, token),
        "abandoned_checkout_url": f"{shop_url}/{SHOP_ID}/checkouts/{token}/recover?key={_token('recover', token)}",
        "discount_codes": [{"code": discount_code, "amount": money["total_discounts"], "type": "percentage"}]
        if discount_code else [],
        "shipping_lines": [{"code": "standard", "price": money["shipping"], "title": "Standard delivery"}],
        "total_discounts": money["total_discounts"], "total_line_items_price": money["total_line_items_price"],
        "total_price": money["total_price"], "total_tax": money["total_tax"], "subtotal_price": money["subtotal_price"],
        "billing_address": _address(who), "shipping_address": _address(who),
        "customer": customer(who, created_at, None),
    }


def order(who: Shopper, order_id: int, number: int, lines: Sequence[Line], *, at: datetime, base_url: str,
          shop_url: str, discount_code: str | None = None, checkout_token: str | None = None) -> dict[str, Any]:
    """An orders/create body: a paid order."""
    money = _money(lines, discount_code)
    token = _token("order", order_id)
    return {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "app_id": 580111,
        "browser_ip": None, "buyer_accepts_marketing": False, "cancel_reason": None, "cancelled_at": None,
        "cart_token": _token("cart", checkout_token) if checkout_token else None,
        "checkout_token": checkout_token or _token("checkout", order_id), "confirmed": True,
        "contact_email": who.email, "email": who.email, "created_at": stamp(at), "updated_at": stamp(at),
        "processed_at": stamp(at), "currency": "EUR", "presentment_currency": "EUR",
        "customer_locale": who.locale, "financial_status": "paid", "fulfillment_status": None,
        "name": f"#{number}", "number": number - 1000, "order_number": number, "token": token,
        "order_status_url": f"{shop_url}/{SHOP_ID}/orders/{token}/authenticate?key={_token('status', order_id)}",
        "source_name": "web", "tags": "", "test": False, "taxes_included": True,
        "discount_codes": [{"code": discount_code, "amount": money["total_discounts"], "type": "percentage"}]
        if discount_code else [],
        "line_items": _line_items(lines, base_url, order_id),
        "shipping_lines": [{"code": "standard", "price": money["shipping"], "title": "Standard delivery"}],
        "subtotal_price": money["subtotal_price"], "total_discounts": money["total_discounts"],
        "total_line_items_price": money["total_line_items_price"], "total_price": money["total_price"],
        "total_tax": money["total_tax"], "total_weight": sum(line.product.grams * line.quantity for line in lines),
        "billing_address": _address(who), "shipping_address": _address(who),
        "customer": customer(who, at, None),
    }
