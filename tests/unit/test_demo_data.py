"""The demo shop's made-up data: the same every time, believable, and mappable by our own
Shopify mapping into events the API accepts."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.demo import catalog, content, population
from app.demo import shopify as payloads
from app.demo.people import COUNTRIES
from app.integrations import shopify
from app.integrations.outcomes import CartNote, Emit, Ignore
from app.services.event_input import parse
from app.starters.journey_starters import get_starter

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
RESERVED = ("example.com", "example.net", "example.org")


def test_the_same_seed_and_now_give_the_same_shop_and_another_seed_another() -> None:
    assert population.population(NOW) == population.population(NOW)
    assert population.population(NOW, seed=1)[0] != population.population(NOW)[0]


def test_a_thousand_believable_customers_across_europe_and_america() -> None:
    people = population.population(NOW)
    assert len(people) == 1000
    assert len({p.email for p in people}) == 1000 and len({p.customer_id for p in people}) == 1000
    countries = Counter(p.country.code for p in people)
    assert len(countries) >= 12 and countries["US"] > 50 and countries["DE"] > 50 and countries["BR"] > 0
    for p in people:
        ZoneInfo(p.timezone)  # a real IANA zone
        assert (p.city, p.timezone) in p.country.zones and p.locale == p.country.locale
        domain = p.email.rsplit("@", 1)[1]
        assert domain in RESERVED or domain.endswith(".example"), p.email  # mail that can reach nobody
        assert p.email.isascii() and p.first_name and p.last_name
    assert {p.country.locale for p in people} >= {"de-DE", "pl-PL", "en-US", "pt-BR", "es-MX", "fr-FR"}


def test_consent_is_mostly_subscribed_with_some_unsubscribed_and_a_few_unconfirmed() -> None:
    shares = Counter(p.consent for p in population.population(NOW))
    assert shares["subscribed"] > 700 and 50 < shares["unsubscribed"] < 150
    assert 10 < shares["unconfirmed"] < 80 and shares["none"] > 0
    for p in population.population(NOW):
        if p.consent in ("subscribed", "unsubscribed"):
            assert p.signed_up_at < p.confirmed_at <= NOW  # type: ignore[operator]
        else:
            assert p.confirmed_at is None
        if p.unsubscribed_at is not None:
            assert p.consent == "unsubscribed" and p.confirmed_at < p.unsubscribed_at < NOW  # type: ignore[operator]


def test_orders_fall_in_the_past_year_after_signup_numbered_in_time() -> None:
    people = population.population(NOW)
    history = population.orders_in_time(people)
    assert 1200 < len(history) < 2600
    assert [o.number for _, o in history] == list(range(1001, 1001 + len(history)))
    assert len({o.order_id for _, o in history}) == len(history)
    for (person, order), (_, after) in zip(history, history[1:]):
        assert order.at <= after.at
    for person, order in history:
        assert NOW - timedelta(days=366) <= order.at <= NOW and order.at >= person.signed_up_at
        assert order.total == order.subtotal - order.discount + order.shipping > 0
    never = sum(1 for p in people if not p.orders)
    lapsed = sum(1 for p in people if p.orders and NOW - p.orders[-1].at > timedelta(days=90))
    assert 150 < never < 350 and lapsed > 50  # somebody for the win-back journey to win back
    vip = [p for p in people if "vip" in p.tags]
    assert vip and all(p.total_spent >= population.VIP_SPEND for p in vip)


def test_an_order_body_maps_to_the_order_event_the_history_says() -> None:
    person = next(p for p in population.population(NOW) if p.orders and p.orders[0].discount_code)
    order = person.orders[0]
    body = payloads.order(payloads.Shopper.of(person), order.order_id, order.number, order.lines, at=order.at,
                          base_url="http://127.0.0.1:5000", shop_url="https://shop.example",
                          discount_code=order.discount_code, checkout_token="tok123")
    out = shopify.map_webhook("orders/create", body)
    assert isinstance(out, Emit) and out.key == f"order:{order.order_id}" and out.cart == CartNote("tok123", False)
    event = parse(out.event)
    assert event.event == "order_placed" and event.contact.email == person.email
    assert event.contact.external_id == str(person.customer_id) and event.contact.consent == {}
    assert event.contact.attributes["country"] == person.country.code
    props = event.properties
    assert Decimal(props["total"]) == order.total and props["discount_codes"] == [order.discount_code]
    assert props["name"] == f"#{order.number}" and props["currency"] == "EUR"
    first = props["items"][0]
    assert first["sku"] == order.lines[0].sku and first["image"].endswith(f"/static/img/demo/{first['sku'].lower()}.svg")


def test_customer_and_checkout_bodies_map_to_signups_and_open_carts() -> None:
    person = population.population(NOW)[0]
    who = payloads.Shopper.of(person)
    signup = shopify.map_webhook("customers/create", payloads.customer(who, NOW, "subscribed"))
    assert isinstance(signup, Emit) and parse(signup.event).contact.consent == {"marketing": "subscribed"}
    assert signup.key == f"customer:{person.customer_id}:created"
    quiet = shopify.map_webhook("customers/create", payloads.customer(who, NOW, "none"))
    assert isinstance(quiet, Emit) and parse(quiet.event).contact.consent == {}  # not_subscribed sets nothing
    lines = population.basket(random.Random(3))
    for topic in ("checkouts/create", "checkouts/update"):
        out = shopify.map_webhook(topic, payloads.checkout(who, "abc123", lines, created_at=NOW, updated_at=NOW,
                                                           base_url="http://x", shop_url="https://shop.example"))
        assert isinstance(out, Emit) and out.cart == CartNote("abc123", True)
        props = parse(out.event).properties
        assert "/checkouts/abc123/recover" in props["abandoned_checkout_url"]
        assert [i["sku"] for i in props["items"]] == [line.sku for line in lines]
    assert isinstance(shopify.map_webhook("checkouts/update", {"token": "x", "completed_at": "2025-01-01"}), Ignore)


def test_every_product_has_a_picture_and_three_others_that_go_with_it() -> None:
    from app import ROOT

    assert set(catalog.GOES_WITH) == set(catalog.BY_SKU)
    for sku, picks in catalog.GOES_WITH.items():
        assert len(set(picks)) == 3 and sku not in picks and set(picks) <= set(catalog.BY_SKU)
        assert (ROOT / "static" / "img" / "demo" / f"{sku.lower()}.svg").is_file(), sku
    assert all(c.weight > 0 and c.first_names and c.last_names for c in COUNTRIES)


def test_the_demo_journeys_change_the_starters_as_documented() -> None:
    welcome = content.welcome(get_starter("welcome-series").graph)
    assert welcome["nodes"][0]["config"]["event"] == "customer_created" and "quiet_hours" not in welcome["settings"]
    assert {"from": "start", "to": "wait_confirm"} in welcome["edges"]
    assert {"from": "wait_confirm", "to": "welcome"} in welcome["edges"]
    cart = content.abandoned_cart(get_starter("abandoned-cart").graph)
    split = next(n for n in cart["nodes"] if n["type"] == "ab_split")
    assert [v["weight"] for v in split["config"]["variants"]] == [50, 50]
    sends = {n["id"]: n["config"]["template"] for n in cart["nodes"] if n["type"] == "send"}
    assert sends["reminder"] == "cart-reminder" and sends["reminder_b"] == "cart-reminder-b"
    assert {"from": "wait_1h", "to": "subject_test"} in cart["edges"]
    assert set(cart["ui"]["positions"]) == {n["id"] for n in cart["nodes"]}
    assert set(welcome["ui"]["positions"]) == {n["id"] for n in welcome["nodes"]}
    assert content.win_back(get_starter("win-back").graph)["settings"]["holdout_percent"] == 10
    assert get_starter("abandoned-cart").graph["nodes"][2]["id"] == "reminder"  # the starter itself is untouched


def test_the_demo_commands_and_up_options_have_help() -> None:
    from click.testing import CliRunner

    from app.cli import main

    runner = CliRunner()
    for command in (["demo"], ["demo", "traffic"], ["up"]):
        result = runner.invoke(main, [*command, "--help"], prog_name="journeys")
        assert result.exit_code == 0 and "Usage: journeys" in result.output, command
    assert "--reset" in runner.invoke(main, ["demo", "--help"]).output
    traffic = runner.invoke(main, ["demo", "traffic", "--help"]).output
    assert "--rate" in traffic and "--url" in traffic and "--duration" in traffic
    up = runner.invoke(main, ["up", "--help"]).output
    assert "--demo / --no-demo" in up and "JOURNEYS_DEMO" in up and "--demo-rate" in up
