"""Shopify and WooCommerce deliveries over HTTP: signatures, deduplication, each topic's event in
the database, the WooCommerce ping, and refusals that store nothing."""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app import clock, create_app
from app.db import db
from app.integrations.signature import sign
from app.models import Contact, PrivacyRequest, ShopDelivery, SubscriptionStatus
from app.services import shop_webhooks
from tests.engine_support import work
from tests.shop_support import (T0, ShopSource, counts, deliver, events_named, fixture, make_source,
                                shopify_headers, woo_headers)
from tests.shop_support import client, shop_app, shopify  # noqa: F401 - fixtures


@pytest.fixture
def woo(shop_app) -> ShopSource:  # type: ignore[no-untyped-def]
    return make_source(shop_app, "woocommerce", name="Woo store")


def contact(application: Any, email: str) -> Contact | None:
    with application.app_context():
        return db.session.scalar(select(Contact).where(Contact.email == email))


def deliveries(application: Any) -> list[ShopDelivery]:
    with application.app_context():
        return list(db.session.scalars(select(ShopDelivery).order_by(ShopDelivery.id)))


def test_a_signed_shopify_order_is_stored_then_processed_into_the_contact(shop_app, client, shopify):
    resp = deliver(client, shopify, "orders/create", fixture("shopify/orders_create.json"))
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["status"] == "stored"
    [event] = events_named(shop_app, "order_placed")
    assert resp.get_json()["event_id"] == event.id
    assert event.source == "shopify:Main store" and event.properties["total"] == "404.95"
    assert event.properties["discount_codes"] == ["SPRING20"] and len(event.properties["items"]) == 3
    assert event.idempotency_key.endswith(":order:820982911946154508")
    work(shop_app)
    buyer = contact(shop_app, "john@example.com")
    assert buyer is not None and buyer.external_id == "115310627314723954"
    assert buyer.attributes == {"first_name": "John", "last_name": "Smith", "phone": "123-123-1234", "country": "CA"}
    assert (buyer.orders_count, float(buyer.total_spent), buyer.locale) == (1, 404.95, "en")


@pytest.mark.parametrize("case", ["changed byte", "wrong secret", "missing signature", "unknown source",
                                  "disabled source"])
def test_a_delivery_that_is_not_provably_shopify_is_refused_and_stores_nothing(shop_app, client, shopify, case):
    body = json.dumps(fixture("shopify/orders_create.json")).encode()
    headers = shopify_headers("orders/create", body, shopify.secret)
    path = shopify.path
    if case == "changed byte":
        body = body.replace(b"404.95", b"404.96")
    elif case == "wrong secret":
        headers = shopify_headers("orders/create", body, "not-the-secret")
    elif case == "missing signature":
        del headers["X-Shopify-Hmac-Sha256"]
    elif case == "unknown source":
        path = shopify.path[:-4] + "zzzz"
    else:
        with shop_app.app_context():
            from app.services import sources

            with db.transaction() as s:
                sources.set_disabled(s, "Main store", True, by="test")
    resp = client.post(path, data=body, headers=headers)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert "X-Shopify-Hmac-Sha256" in resp.headers["WWW-Authenticate"]
    problem = resp.get_json()
    assert problem["status"] == 401 and problem["detail"]
    if case in ("changed byte", "wrong secret", "missing signature"):
        assert problem["errors"][0]["header"] == "X-Shopify-Hmac-Sha256"
    assert counts(shop_app) == (0, 0)


def test_a_replayed_webhook_id_is_acknowledged_and_stores_nothing(shop_app, client, shopify):
    order = fixture("shopify/orders_create.json")
    first = deliver(client, shopify, "orders/create", order, delivery_id="b54557e4-replayed")
    again = deliver(client, shopify, "orders/create", order, delivery_id="b54557e4-replayed")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.get_json() == {"status": "duplicate"}
    assert counts(shop_app) == (1, 1)
    # A second subscription to the same topic delivers the same order with another id: still one order.
    other = deliver(client, shopify, "orders/create", order, delivery_id="b54557e4-other")
    assert other.status_code == 200 and other.get_json()["status"] == "known_event"
    assert counts(shop_app) == (1, 2)


def test_a_delivery_id_is_remembered_for_seven_days(shop_app, client, shopify):
    order = fixture("shopify/orders_create.json")
    deliver(client, shopify, "orders/create", order, delivery_id="late-retry")
    with shop_app.app_context():
        assert shop_webhooks.prune_deliveries(db.session, T0 + timedelta(days=6, hours=23)) == 0
    clock.set_source(lambda: T0 + timedelta(days=6, hours=23))
    assert deliver(client, shopify, "orders/create", order, delivery_id="late-retry").get_json() == \
        {"status": "duplicate"}
    with shop_app.app_context():
        assert shop_webhooks.prune_deliveries(db.session, T0 + timedelta(days=7, minutes=1)) == 1
    assert counts(shop_app) == (1, 0)


@pytest.mark.parametrize("topic, name, event, check", [
    ("checkouts/create", "checkouts_create", "checkout_started",
     lambda p: p["abandoned_checkout_url"].endswith("/checkouts/123123123/recover?key=example-secret-token")
     and p["total"] == "421.88" and p["items"][0]["title"] == "IPod Nano - 8GB"),
    ("checkouts/update", "checkouts_update", "checkout_updated", lambda p: p["checkout_token"] == "123123123"),
    ("customers/create", "customers_create", "customer_created", lambda p: p["customer_id"] == "706405506930370084"),
    ("customers/update", "customers_update", "customer_updated", lambda p: p["customer_id"] == "706405506930370084"),
])
def test_each_shopify_topic_becomes_its_event(shop_app, client, shopify, topic, name, event, check):
    resp = deliver(client, shopify, topic, fixture(f"shopify/{name}.json"))
    assert resp.status_code == 202, resp.get_json()
    [stored] = events_named(shop_app, event)
    assert check(stored.properties)
    assert [d.outcome for d in deliveries(shop_app)] == ["stored"]


def test_shopify_consent_and_attributes_reach_the_contact(shop_app, client, shopify):
    deliver(client, shopify, "customers/create", fixture("shopify/customers_create_2024_07.json"))
    work(shop_app)
    bob = contact(shop_app, "bob@biller.com")
    assert bob is not None and bob.subscription_status is SubscriptionStatus.subscribed
    update = fixture("shopify/customers_update.json")
    update.update(first_name="Robert", email_marketing_consent={"state": "unsubscribed", "opt_in_level": None,
                                                                "consent_updated_at": "2026-12-01T09:00:00Z"})
    deliver(client, shopify, "customers/update", update)
    work(shop_app)
    bob = contact(shop_app, "bob@biller.com")
    assert bob.subscription_status is SubscriptionStatus.unsubscribed and bob.attributes["first_name"] == "Robert"


@pytest.mark.parametrize("topic, name, kind", [
    ("customers/redact", "customers_redact", "erasure"),
    ("customers/data_request", "customers_data_request", "export"),
    ("shop/redact", "shop_redact", "shop_erasure"),
])
def test_privacy_topics_are_recorded_and_erase_nothing_yet(shop_app, client, shopify, topic, name, kind):
    deliver(client, shopify, "customers/create", dict(fixture("shopify/customers_create.json"),
                                                      email="john@example.com", id=191167))
    work(shop_app)
    resp = deliver(client, shopify, topic, fixture(f"shopify/{name}.json"))
    assert resp.status_code == 200 and resp.get_json()["status"] == "privacy"
    with shop_app.app_context():
        [request] = db.session.scalars(select(PrivacyRequest)).all()
        assert (request.kind, request.topic, request.status) == (kind, topic, "recorded")
        if kind != "shop_erasure":
            assert (request.customer_email, request.customer_external_id) == ("john@example.com", "191167")
    assert contact(shop_app, "john@example.com") is not None  # recorded, not (yet) erased
    assert [d.outcome for d in deliveries(shop_app)] == ["stored", "privacy"]


def test_an_unknown_topic_is_acknowledged_and_recorded(shop_app, client, shopify):
    resp = deliver(client, shopify, "products/update", fixture("shopify/products_update.json"))
    assert resp.status_code == 200 and resp.get_json()["status"] == "unknown_topic"
    [delivery] = deliveries(shop_app)
    assert (delivery.topic, delivery.outcome, delivery.event_id) == ("products/update", "unknown_topic", None)
    assert counts(shop_app) == (0, 1)


def test_a_signed_but_unusable_order_is_acknowledged_with_the_reason(shop_app, client, shopify):
    order = fixture("shopify/orders_create.json")
    order["customer"]["email"] = "not an address"
    resp = deliver(client, shopify, "orders/create", order)
    assert resp.status_code == 200 and resp.get_json()["status"] == "rejected"
    assert "email" in resp.get_json()["detail"]
    assert counts(shop_app) == (0, 1)  # recorded, so Shopify's retries are recognised; no event


@pytest.mark.parametrize("missing", ["X-Shopify-Topic", "X-Shopify-Webhook-Id"])
def test_a_signed_delivery_without_topic_or_id_is_a_bad_request(shop_app, client, shopify, missing):
    body = json.dumps(fixture("shopify/orders_create.json")).encode()
    headers = shopify_headers("orders/create", body, shopify.secret)
    del headers[missing]
    resp = client.post(shopify.path, data=body, headers=headers)
    assert resp.status_code == 400 and resp.get_json()["errors"] == [
        {"detail": "required, 1 to 100 printable characters" if missing == "X-Shopify-Topic"
         else "required, 1 to 150 printable characters", "header": missing}]
    assert counts(shop_app) == (0, 0)


def test_signed_bytes_that_are_not_json_are_a_bad_request(shop_app, client, shopify):
    body = b'{"id": 1, '
    resp = client.post(shopify.path, data=body, headers=shopify_headers("orders/create", body, shopify.secret))
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["pointer"] == ""
    assert counts(shop_app) == (0, 0)


def test_an_oversized_body_is_refused_before_anything_is_read(shop_app, client, shopify):
    body = b'{"pad": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    resp = client.post(shopify.path, data=body, headers=shopify_headers("orders/create", body, shopify.secret))
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"
    assert counts(shop_app) == (0, 0)


def test_woocommerce_order_counts_once_across_created_and_updated(shop_app, client, woo):
    pending = deliver(client, woo, "order.created", fixture("woocommerce/order_created_pending.json"))
    assert pending.status_code == 200 and pending.get_json()["status"] == "ignored"
    assert "pending" in pending.get_json()["detail"]
    completed = deliver(client, woo, "order.updated", fixture("woocommerce/order_updated_completed.json"))
    assert completed.status_code == 202
    again = deliver(client, woo, "order.updated", fixture("woocommerce/order_updated_completed.json"))
    assert again.status_code == 200 and again.get_json()["status"] == "known_event"
    [order] = events_named(shop_app, "order_placed")
    assert order.properties["order_id"] == "727" and order.properties["status"] == "completed"
    work(shop_app)
    buyer = contact(shop_app, "john.doe@example.com")
    assert (buyer.external_id, buyer.orders_count, float(buyer.total_spent)) == ("26", 1, 29.35)


def test_woocommerce_customer_created_and_the_created_order(shop_app, client, woo):
    assert deliver(client, woo, "customer.created", fixture("woocommerce/customer_created.json")).status_code == 202
    assert deliver(client, woo, "order.created", fixture("woocommerce/order_created.json")).status_code == 202
    assert [e.name for e in events_named(shop_app, "customer_created") + events_named(shop_app, "order_placed")] == \
        ["customer_created", "order_placed"]
    assert deliver(client, woo, "coupon.created", {"id": 719, "code": "10off"}).get_json()["status"] == \
        "unknown_topic"


def test_woocommerce_delivery_ids_repeat_within_a_second_so_the_body_tells_them_apart(shop_app, client, woo):
    first, second = fixture("woocommerce/order_created.json"), fixture("woocommerce/order_created.json")
    second.update(id=728, number="728")
    assert deliver(client, woo, "order.created", first, delivery_id="same-second").status_code == 202
    assert deliver(client, woo, "order.created", second, delivery_id="same-second").status_code == 202
    assert deliver(client, woo, "order.created", second, delivery_id="same-second").get_json() == \
        {"status": "duplicate"}
    assert counts(shop_app) == (2, 2)


def test_the_woocommerce_ping_is_answered_200_and_stores_nothing(shop_app, client, woo):
    form = {"Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"}
    resp = client.post(woo.path, data=b"webhook_id=3", headers=form)
    assert resp.status_code == 200 and resp.get_json() == {"status": "ping"}
    assert client.post(woo.path[:-4] + "zzzz", data=b"webhook_id=3", headers=form).status_code == 401
    body = b"webhook_id=3"
    unsigned = {**woo_headers("order.created", body, woo.secret)}
    del unsigned["X-WC-Webhook-Signature"]
    assert client.post(woo.path, data=body, headers=unsigned).status_code == 401
    assert counts(shop_app) == (0, 0)


def test_a_refused_woocommerce_delivery_is_logged_with_the_five_failures_rule(shop_app, client, woo, caplog):
    caplog.set_level(logging.WARNING, logger="app.api.shop_webhooks")
    resp = deliver(client, woo, "order.created", fixture("woocommerce/order_created.json"), secret="stale")
    assert resp.status_code == 401
    assert "disables a webhook after 5 failed deliveries" in caplog.text


def test_a_source_is_rate_limited_with_retry_after(app, settings):
    application = create_app(settings, overrides={"SHOP_WEBHOOK_RATE_LIMIT": "2/minute"})
    try:
        source = make_source(application, "shopify", name="Busy store")
        client = application.test_client()
        for _ in range(2):
            deliver(client, source, "products/update", {"id": 1})
        resp = deliver(client, source, "products/update", {"id": 1})
        assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
        assert resp.mimetype == "application/problem+json"
        assert counts(application) == (0, 2)
    finally:
        application.extensions["db_engine"].dispose()


def test_signature_header_uses_the_raw_body_not_reserialised_json(shop_app, client, shopify):
    # Shopify signs its own bytes: spacing and key order must survive untouched.
    body = b'{"id":820982911946154508,  "email":"jon@example.com","total_price":"1.00","customer":{}}'
    headers = shopify_headers("orders/create", body, shopify.secret)
    assert headers["X-Shopify-Hmac-Sha256"] == sign(shopify.secret, body)
    assert client.post(shopify.path, data=body, headers=headers).status_code == 202
