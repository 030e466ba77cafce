"""The shops' documented webhook payloads (tests/fixtures/*) become the events journeys see."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.integrations import shopify, signature, woocommerce
from app.integrations.outcomes import CartNote, Emit, Ignore, PrivacyAsk, PrivacyKind
from app.services.event_input import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def emitted(outcome: object) -> Emit:
    assert isinstance(outcome, Emit), outcome
    parse(outcome.event)  # every mapped event passes the native API's own validation
    return outcome


def test_shopify_order_becomes_order_placed_with_items_total_and_codes() -> None:
    out = emitted(shopify.map_webhook("orders/create", fixture("shopify/orders_create.json")))
    event = out.event
    assert event["event"] == "order_placed" and event["occurred_at"] == "2021-12-31T19:00:00-05:00"
    assert event["contact"] == {"email": "john@example.com", "external_id": "115310627314723954",
                                "attributes": {"first_name": "John", "last_name": "Smith", "phone": "123-123-1234",
                                               "country": "CA"},
                                "locale": "en"}
    props = event["properties"]
    assert props["order_id"] == "820982911946154508" and props["order_number"] == 1234
    assert (props["total"], props["currency"], props["discount_codes"]) == ("404.95", "USD", ["SPRING20"])
    assert props["items"][0] == {"title": "Aviator sunglasses", "quantity": 1, "price": "89.99",
                                 "product_id": "788032119674292922", "sku": "SKU2006-001"}
    assert len(props["items"]) == 3 and "image" not in props["items"][0]
    assert out.key == "order:820982911946154508" and out.cart is None  # the sample has no checkout_token


def test_shopify_order_item_image_and_checkout_token_when_present() -> None:
    payload = fixture("shopify/orders_create.json")
    payload["checkout_token"] = "123123123"
    payload["line_items"][0]["image"] = {"src": "https://cdn.shopify.com/s/files/aviator.jpg"}
    out = emitted(shopify.map_webhook("orders/create", payload))
    assert out.event["properties"]["items"][0]["image"] == "https://cdn.shopify.com/s/files/aviator.jpg"
    assert out.cart == CartNote("123123123", open=False)


def test_shopify_order_falls_back_to_the_order_email_without_a_customer() -> None:
    payload = fixture("shopify/orders_create.json")
    del payload["customer"]
    out = emitted(shopify.map_webhook("orders/create", payload))
    assert out.event["contact"]["email"] == "jon@example.com" and "external_id" not in out.event["contact"]
    assert out.event["contact"]["attributes"]["first_name"] == "Steve"  # from the billing address


@pytest.mark.parametrize("topic, fixture_name, name, at", [
    ("checkouts/create", "shopify/checkouts_create.json", "checkout_started", "2021-12-31T19:00:00-05:00"),
    ("checkouts/update", "shopify/checkouts_update.json", "checkout_updated", "2021-12-31T19:20:00-05:00"),
])
def test_shopify_checkouts_carry_items_total_and_the_recovery_url(topic: str, fixture_name: str, name: str,
                                                                  at: str) -> None:
    out = emitted(shopify.map_webhook(topic, fixture(fixture_name)))
    props = out.event["properties"]
    assert out.event["event"] == name and out.event["occurred_at"] == at
    assert props["abandoned_checkout_url"] == \
        "https://checkout.local/548380009/checkouts/123123123/recover?key=example-secret-token"
    assert (props["total"], props["checkout_token"], len(props["items"])) == ("421.88", "123123123", 2)
    assert props["items"][0]["variant_id"] == "808950810" and props["items"][0]["price"] == "199.00"
    assert out.cart == CartNote("123123123", open=True) and out.key is None


def test_shopify_checkout_without_email_or_completed_is_not_an_event() -> None:
    anonymous = fixture("shopify/checkouts_create.json")
    anonymous.pop("email"), anonymous.pop("customer")
    waiting = shopify.map_webhook("checkouts/create", anonymous)
    assert isinstance(waiting, Ignore) and "no email yet" in waiting.reason and waiting.cart is None
    completed = fixture("shopify/checkouts_update.json")
    completed["completed_at"] = "2021-12-31T19:30:00-05:00"
    done = shopify.map_webhook("checkouts/update", completed)
    assert isinstance(done, Ignore) and done.cart == CartNote("123123123", open=False)


def test_shopify_customer_consent_maps_to_ours() -> None:
    modern = emitted(shopify.map_webhook("customers/create", fixture("shopify/customers_create.json")))
    assert modern.event["event"] == "customer_created" and "consent" not in modern.event["contact"]
    assert modern.event["contact"]["external_id"] == "706405506930370084"
    assert modern.key == "customer:706405506930370084:created"
    subscribed = emitted(shopify.map_webhook("customers/create", fixture("shopify/customers_create_2024_07.json")))
    assert subscribed.event["contact"]["consent"] == {"marketing": "subscribed"}
    assert shopify.consent({"email_marketing_consent": {"state": "unsubscribed"}}) == "unsubscribed"
    for state in ("not_subscribed", "pending", "redacted", "invalid"):
        assert shopify.consent({"email_marketing_consent": {"state": state}, "accepts_marketing": True}) is None
    assert shopify.consent({"accepts_marketing": True}) == "subscribed"
    assert shopify.consent({"accepts_marketing": False}) is None


def test_shopify_customer_updates_upsert_the_contact() -> None:
    update = emitted(shopify.map_webhook("customers/update", fixture("shopify/customers_update.json")))
    assert update.event["event"] == "customer_updated" and update.key is None
    assert update.event["contact"]["attributes"] == {"first_name": "Bob", "last_name": "Biller",
                                                     "phone": "555-555-5555", "country": "CA"}
    consent = emitted(shopify.map_webhook("customers_email_marketing_consent/update",
                                          fixture("shopify/customers_email_marketing_consent_update.json")))
    assert consent.event["contact"] == {"email": "bob@biller.com", "external_id": "706405506930370084"}


@pytest.mark.parametrize("topic, name, kind, detail", [
    ("customers/redact", "customers_redact", PrivacyKind.erasure, "orders_to_redact"),
    ("customers/data_request", "customers_data_request", PrivacyKind.export, "data_request"),
    ("shop/redact", "shop_redact", PrivacyKind.shop_erasure, "shop_domain"),
])
def test_shopify_privacy_topics_are_requests(topic: str, name: str, kind: PrivacyKind, detail: str) -> None:
    out = shopify.map_webhook(topic, fixture(f"shopify/{name}.json"))
    assert isinstance(out, PrivacyAsk) and out.kind is kind and detail in out.details
    if kind is not PrivacyKind.shop_erasure:
        assert (out.email, out.external_id) == ("john@example.com", "191167")


def test_unknown_topics_and_odd_bodies_are_ignored_not_errors() -> None:
    unknown = shopify.map_webhook("products/update", fixture("shopify/products_update.json"))
    assert isinstance(unknown, Ignore) and unknown.unknown_topic
    assert isinstance(shopify.map_webhook("orders/create", [1, 2]), Ignore)
    odd = fixture("shopify/orders_create.json")
    odd.update(line_items="nope", customer=7, total_price={"x": 1}, discount_codes=[None, {"code": 5}])
    out = emitted(shopify.map_webhook("orders/create", odd))
    assert out.event["contact"] == {"email": "jon@example.com", "locale": "en",
                                    "attributes": {"first_name": "Steve", "last_name": "Shipper",
                                                   "phone": "555-555-SHIP", "country": "US"}}
    assert "items" not in out.event["properties"] and "total" not in out.event["properties"]


def test_woocommerce_order_is_placed_once_processing_or_completed() -> None:
    out = emitted(woocommerce.map_webhook("order.created", fixture("woocommerce/order_created.json")))
    assert out.key == "order:727" and out.event["occurred_at"] == "2017-03-22T19:28:02Z"
    assert out.event["contact"] == {"email": "john.doe@example.com",
                                    "attributes": {"first_name": "John", "last_name": "Doe",
                                                   "phone": "(555) 555-5555", "country": "US"}}
    props = out.event["properties"]
    assert (props["total"], props["currency"], props["discount_codes"]) == ("29.35", "USD", ["10off"])
    assert props["items"][0] == {"title": "Woo Single #1", "quantity": 2, "price": "3", "product_id": "93",
                                 "image": "https://example.com/wp-content/uploads/2017/03/single-1.jpg"}
    assert props["items"][1]["variant_id"] == "23" and "image" not in props["items"][1]
    pending = woocommerce.map_webhook("order.created", fixture("woocommerce/order_created_pending.json"))
    assert isinstance(pending, Ignore) and "pending" in pending.reason
    completed = emitted(woocommerce.map_webhook("order.updated", fixture("woocommerce/order_updated_completed.json")))
    assert completed.key == "order:727" and completed.event["contact"]["external_id"] == "26"


def test_woocommerce_customer_created_and_the_ping() -> None:
    out = emitted(woocommerce.map_webhook("customer.created", fixture("woocommerce/customer_created.json")))
    assert out.event["event"] == "customer_created" and out.key == "customer:25:created"
    assert out.event["contact"]["external_id"] == "25" and out.event["contact"]["email"] == "john.doe@example.com"
    assert isinstance(woocommerce.map_webhook("coupon.created", {"id": 1}), Ignore)
    assert woocommerce.is_ping(None, None, b"webhook_id=12")
    assert not woocommerce.is_ping("order.created", None, b"webhook_id=12")
    assert not woocommerce.is_ping(None, "c2ln", b"webhook_id=12")
    assert not woocommerce.is_ping(None, None, b'{"webhook_id": 12}')


def test_signatures_are_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id": 1}'
    # Reference value computed independently: printf '{"id": 1}' | openssl dgst -sha256 -hmac s3cret -binary | base64
    assert signature.sign("s3cret", body) == "znsdkYCAk1lKD3Dtkic/QcY14BRZ/tOffwvL4Jyjy8c="
    assert signature.matches("s3cret", body, "znsdkYCAk1lKD3Dtkic/QcY14BRZ/tOffwvL4Jyjy8c=")
    assert not signature.matches("s3cret", body + b" ", "znsdkYCAk1lKD3Dtkic/QcY14BRZ/tOffwvL4Jyjy8c=")
    assert not signature.matches("other", body, "znsdkYCAk1lKD3Dtkic/QcY14BRZ/tOffwvL4Jyjy8c=")
    assert not signature.matches("s3cret", body, "ünïcode")
