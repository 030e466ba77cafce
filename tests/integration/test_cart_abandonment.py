"""Cart abandonment on a controllable clock: a checkout with no order within the source's window
becomes cart_abandoned (once), a later update restarts the wait, an order cancels it."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app import clock
from app.db import db
from app.models import Contact, Enrollment, PendingCart, SubscriptionStatus
from tests.engine_support import chain, event, journey, post, tick, wait, work
from tests.shop_support import T0, deliver, events_named, fixture, make_source
from tests.shop_support import client, shop_app, shopify  # noqa: F401 - fixtures

URL = "https://checkout.local/548380009/checkouts/123123123/recover?key=example-secret-token"


def checkout(name: str = "checkouts_create", **changes: Any) -> dict[str, Any]:
    """Shopify's documented checkout, started at T0."""
    return {**fixture(f"shopify/{name}.json"), "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-01T10:00:00Z", **changes}


def at(application: Any, moment: datetime) -> None:
    """Move the clock to `moment` and run one scheduler tick and the jobs it queued."""
    clock.set_source(lambda: moment)
    tick(application)
    work(application)


def abandoned(application: Any) -> list[Any]:
    return events_named(application, "cart_abandoned")


def cart_state(application: Any) -> str:
    with application.app_context():
        return db.session.scalars(select(PendingCart.state)).one()


def test_a_checkout_with_no_order_becomes_cart_abandoned_once_after_the_window(shop_app, client, shopify):
    deliver(client, shopify, "checkouts/create", checkout())
    at(shop_app, T0 + timedelta(minutes=59))
    assert abandoned(shop_app) == []
    at(shop_app, T0 + timedelta(minutes=60))
    [cart] = abandoned(shop_app)
    assert cart.contact["email"] == "john@example.com" and cart.source == "shopify:Main store"
    props = cart.properties
    assert props["abandoned_checkout_url"] == URL and props["checkout_token"] == "123123123"
    assert [i["title"] for i in props["items"]] == ["IPod Nano - 8GB", "IPod Nano - 8GB"]
    assert (props["total"], props["currency"]) == ("421.88", "USD")
    assert cart.occurred_at == T0 + timedelta(minutes=60)
    at(shop_app, T0 + timedelta(hours=5))
    deliver(client, shopify, "checkouts/update", checkout("checkouts_update"))  # after emission
    at(shop_app, T0 + timedelta(hours=7))
    assert len(abandoned(shop_app)) == 1 and cart_state(shop_app) == "emitted"


def test_a_checkout_update_restarts_the_window(shop_app, client, shopify):
    deliver(client, shopify, "checkouts/create", checkout())
    clock.set_source(lambda: T0 + timedelta(minutes=30))
    update = checkout("checkouts_update", updated_at="2026-12-01T10:30:00Z", total_price="210.94")
    update["line_items"] = update["line_items"][:1]
    deliver(client, shopify, "checkouts/update", update)
    at(shop_app, T0 + timedelta(minutes=61))
    assert abandoned(shop_app) == []
    at(shop_app, T0 + timedelta(minutes=90))
    [cart] = abandoned(shop_app)
    assert cart.properties["total"] == "210.94" and len(cart.properties["items"]) == 1  # the latest cart


def test_an_order_from_the_contact_within_the_window_cancels_the_cart(shop_app, client, shopify):
    deliver(client, shopify, "checkouts/create", checkout())
    clock.set_source(lambda: T0 + timedelta(minutes=20))
    order = fixture("shopify/orders_create.json")  # the same customer, john@example.com
    order["created_at"] = "2026-12-01T10:20:00Z"
    deliver(client, shopify, "orders/create", order)
    at(shop_app, T0 + timedelta(hours=2))
    assert abandoned(shop_app) == [] and cart_state(shop_app) == "cancelled"


def test_an_order_from_another_source_cancels_the_cart_when_it_falls_due(shop_app, client, shopify):
    deliver(client, shopify, "checkouts/create", checkout())
    clock.set_source(lambda: T0 + timedelta(minutes=10))
    post(shop_app, {**event("order_placed", "john@example.com", total=99), "occurred_at": "2026-12-01T10:10:00Z"})
    work(shop_app)
    at(shop_app, T0 + timedelta(hours=1))
    assert abandoned(shop_app) == [] and cart_state(shop_app) == "cancelled"


def test_an_order_placed_before_the_checkout_began_cancels_nothing(shop_app, client, shopify):
    post(shop_app, {**event("order_placed", "john@example.com", total=99), "occurred_at": "2026-11-20T10:00:00Z"})
    work(shop_app)
    deliver(client, shopify, "checkouts/create", checkout())
    at(shop_app, T0 + timedelta(hours=1))
    assert len(abandoned(shop_app)) == 1


def test_an_order_after_the_cart_was_abandoned_cancels_nothing_sent(shop_app, client, shopify):
    deliver(client, shopify, "checkouts/create", checkout())
    at(shop_app, T0 + timedelta(hours=1))
    clock.set_source(lambda: T0 + timedelta(hours=2))
    deliver(client, shopify, "orders/create", fixture("shopify/orders_create.json"))
    at(shop_app, T0 + timedelta(hours=3))
    assert len(abandoned(shop_app)) == 1 and cart_state(shop_app) == "emitted"


def test_a_completed_checkout_closes_its_cart(shop_app, client, shopify):
    deliver(client, shopify, "checkouts/create", checkout())
    done = checkout("checkouts_update", completed_at="2026-12-01T10:05:00Z")
    assert deliver(client, shopify, "checkouts/update", done).get_json()["status"] == "ignored"
    at(shop_app, T0 + timedelta(hours=2))
    assert abandoned(shop_app) == [] and cart_state(shop_app) == "cancelled"


def test_cart_abandoned_does_not_replay_the_checkouts_consent(shop_app, client, shopify):
    subscribed = checkout()
    subscribed["customer"]["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in",
                                                         "consent_updated_at": None}
    deliver(client, shopify, "checkouts/create", subscribed)
    work(shop_app)
    clock.set_source(lambda: T0 + timedelta(minutes=30))
    deliver(client, shopify, "customers_email_marketing_consent/update",
            {"customer_id": 603851970716743426, "email_address": "john@example.com",
             "email_marketing_consent": {"state": "unsubscribed", "opt_in_level": None, "consent_updated_at": None}})
    at(shop_app, T0 + timedelta(hours=1))
    [cart] = abandoned(shop_app)
    assert (cart.contact["email"], cart.contact["external_id"]) == ("john@example.com", "603851970716743426")
    assert not cart.contact.get("consent") and not cart.contact.get("attributes")
    with shop_app.app_context():
        john = db.session.scalar(select(Contact).where(Contact.email == "john@example.com"))
        assert john.subscription_status is SubscriptionStatus.unsubscribed


def test_the_window_is_the_sources_own(shop_app, client):
    quick = make_source(shop_app, "shopify", name="Quick store", window=600)
    deliver(client, quick, "checkouts/create", checkout())
    at(shop_app, T0 + timedelta(minutes=10))
    assert len(abandoned(shop_app)) == 1


def test_cart_abandoned_enrolls_the_contact_in_a_journey(shop_app, client, shopify):
    with shop_app.app_context():
        with db.transaction() as s:
            journey(s, chain("cart_abandoned", wait("w1", "PT1H"), settings={"exit_events": ["order_placed"]}),
                    now=T0)
    deliver(client, shopify, "checkouts/create", checkout())
    at(shop_app, T0 + timedelta(hours=1))
    with shop_app.app_context():
        [enrollment] = db.session.scalars(select(Enrollment)).all()
        assert enrollment.status == "waiting"
