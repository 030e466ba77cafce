"""The demo's journeys and templates: the four journey starters (app/starters/), changed where
the demo shows more than a starter does.

- Welcome series: starts on Shopify's `customer_created`; with double opt-in on, it waits ten
  minutes so most new subscribers have confirmed before the first email (the rest are skipped
  with the reason `unconfirmed`), and has no quiet hours: a welcome goes while the person is
  there, whatever the hour.
- Abandoned cart: an A/B split of the reminder's subject line after the 1-hour wait
  (`cart-reminder` against `cart-reminder-b`, the same email with another subject).
- Post-purchase follow-up: the starter's email, with three products that go with the
  order's first item from the shop's catalog (an order event that brings its own
  `recommendations` still wins).
- Win-back after 90 days: the starter with a 10% holdout, so the report can show the lift.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Callable

from app.demo import catalog
from app.services.templates import TemplateIn
from app.starters import template_starters

#: Where the post-purchase starter chooses its picks; the demo puts its catalog there.
PICKS_LINE = "{% set picks = (event.recommendations or [])[:3] %}"
#: The second subject of the abandoned-cart test.
SUBJECT_B = "{{ contact.first_name|default('Hi') }}, your cart is waiting"


@dataclass(frozen=True)
class DemoJourney:
    starter: str
    name: str
    change: Callable[[dict[str, Any]], dict[str, Any]]


def _node(graph: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


def _positions(graph: dict[str, Any]) -> dict[str, list[int]]:
    return graph.setdefault("ui", {}).setdefault("positions", {})


def _shift(graph: dict[str, Any], below: int, by: int) -> None:
    for position in _positions(graph).values():
        if position[1] >= below:
            position[1] += by


def welcome(graph: dict[str, Any]) -> dict[str, Any]:
    graph = copy.deepcopy(graph)
    _node(graph, "start")["config"]["event"] = "customer_created"
    graph["settings"].pop("quiet_hours", None)
    graph["nodes"].insert(1, {"id": "wait_confirm", "type": "wait", "config": {"duration": "PT10M"}})
    first = next(e for e in graph["edges"] if e["from"] == "start")
    first["to"] = "wait_confirm"
    graph["edges"].insert(1, {"from": "wait_confirm", "to": "welcome"})
    start = _positions(graph).get("start", [300, 40])
    _shift(graph, start[1] + 1, 140)
    _positions(graph)["wait_confirm"] = [start[0], start[1] + 140]
    return graph


def abandoned_cart(graph: dict[str, Any]) -> dict[str, Any]:
    graph = copy.deepcopy(graph)
    reminder = _node(graph, "reminder")
    graph["nodes"].insert(graph["nodes"].index(reminder), {"id": "subject_test", "type": "ab_split", "config": {
        "variants": [{"key": "A", "weight": 50, "label": "Plain subject"},
                     {"key": "B", "weight": 50, "label": "First name in the subject"}]}})
    graph["nodes"].insert(graph["nodes"].index(reminder) + 1, {
        "id": "reminder_b", "type": "send", "config": {**reminder["config"], "template": "cart-reminder-b"}})
    for edge in graph["edges"]:
        if edge["to"] == "reminder":
            edge["to"] = "subject_test"
    graph["edges"] += [{"from": "subject_test", "to": "reminder", "port": "A"},
                       {"from": "subject_test", "to": "reminder_b", "port": "B"},
                       {"from": "reminder_b", "to": "wait_order"}]
    positions = _positions(graph)
    x, y = positions.get("reminder", [300, 320])
    _shift(graph, y, 140)
    positions["subject_test"] = [x, y]
    positions["reminder"] = [x - 150, y + 140]
    positions["reminder_b"] = [x + 150, y + 140]
    return graph


def win_back(graph: dict[str, Any]) -> dict[str, Any]:
    graph = copy.deepcopy(graph)
    graph["settings"]["holdout_percent"] = 10
    return graph


JOURNEYS: tuple[DemoJourney, ...] = (
    DemoJourney("welcome-series", "Welcome series (double opt-in)", welcome),
    DemoJourney("abandoned-cart", "Abandoned cart (A/B subject test)", abandoned_cart),
    DemoJourney("post-purchase", "Post-purchase follow-up with cross-sell", copy.deepcopy),
    DemoJourney("win-back", "Win-back after 90 days", win_back),
)


def cross_sell_block(base_url: str, shop_url: str) -> str:
    """Jinja that sets `picks`: up to three products that go with the order's first item."""
    products = ",\n  ".join(
        json.dumps(p.sku) + ": " + json.dumps({"sku": p.sku, "title": p.title, "price": f"{p.price:.2f}",
                                                "image": catalog.image_url(base_url, p.sku),
                                                "url": catalog.product_url(shop_url, p.sku)}, ensure_ascii=False)
        for p in catalog.PRODUCTS)
    pairs = json.dumps({sku: list(picks) for sku, picks in catalog.GOES_WITH.items()})
    return (
        "{# Cross-sell: three products that go with the order's first item, from the shop's catalog\n"
        "   (an order event that carries its own recommendations wins). #}\n"
        "{% set catalog = {\n  " + products + "} %}\n"
        "{% set pairs = " + pairs + " %}\n"
        "{% set bought = (event['items'] or [])|map(attribute='sku')|list %}\n"
        "{% set first = (event['items'] or [{}])[0].sku %}\n"
        "{% set picks = [] %}\n"
        "{% if first in pairs %}{% set trio = pairs[first] %}"
        "{% set picks = [catalog[trio[0]], catalog[trio[1]], catalog[trio[2]]]|rejectattr('sku', 'in', bought)|list %}"
        "{% endif %}\n"
        "{% set picks = (event.recommendations or picks)[:3] %}")


def templates(base_url: str, shop_url: str) -> list[TemplateIn]:
    """The templates the demo makes itself, before the starters make the rest."""
    starters = template_starters()
    cart, after = starters["cart-reminder"], starters["post-purchase"]
    if PICKS_LINE not in after.mjml:
        raise RuntimeError("the post-purchase starter no longer chooses its picks where the demo expects "
                           f"({PICKS_LINE!r}): update app/demo/content.py")
    return [
        cart.model_copy(update={"slug": "cart-reminder-b", "name": "Abandoned cart, subject B",
                                "subject": SUBJECT_B}),
        after.model_copy(update={"mjml": after.mjml.replace(PICKS_LINE, cross_sell_block(base_url, shop_url))}),
    ]
