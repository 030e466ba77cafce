"""Live traffic for the demo shop: Shopify webhooks, signed, posted to the running app, and the
shoppers' reactions to the mail it sends.

Shoppers arrive at `rate` a minute (a Poisson stream). Some only sign up (customers/create,
most of them opting in); some start a checkout (checkouts/create, then checkouts/update)
and either complete it with an order (orders/create carrying the checkout's token) or leave
it, so the source's short window turns it into `cart_abandoned`; returning customers also
order straight away. New mail in the outbox is read as the shoppers' inboxes: most confirm
their subscription (the confirmation page's button), about half open a marketing email
(the pixel), some click a link, a few unsubscribe, and a click sometimes ends in an order.

Everything goes through the app's public HTTP surface, as a shop and a reader would; the
generator never writes to the database.
"""
from __future__ import annotations

import heapq
import itertools
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from app.demo import inbox, population
from app.demo import shopify as payloads
from app.demo.client import Client, Unreachable
from app.demo.habits import APPLE_PROXY, DEFAULT_RATE, READERS, Odds, Pace
from app.demo.people import COUNTRIES
from app.demo.population import Line
from app.integrations.signature import sign
from app.mail import outbox

log = logging.getLogger("journeys.demo.traffic")

@dataclass(frozen=True)
class Shop:
    webhook_path: str
    secret: str
    shop_url: str


@dataclass
class Traffic:
    client: Client
    shop: Shop
    outbox: Path
    customers: list[payloads.Shopper]
    rate: float = DEFAULT_RATE
    rng: random.Random = field(default_factory=random.Random)
    pace: Pace = Pace()
    odds: Odds = Odds()
    next_order_number: int = population.FIRST_ORDER_NUMBER
    next_customer: int = 0
    #: Called when the app refuses our signature (401): a fresh Shop, or None to pause a while.
    refresh: Callable[[], Shop | None] = lambda: None
    tally: Counter[str] = field(default_factory=Counter)
    seen: set[str] = field(default_factory=set)
    _queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=itertools.count)  # type: ignore[type-arg]
    _carts: dict[str, tuple[Line, ...]] = field(default_factory=dict)
    _known: dict[str, payloads.Shopper] = field(default_factory=dict)
    _paused_until: float = 0.0

    def __post_init__(self) -> None:
        self._known = {c.email: c for c in self.customers}

    # -- the loop -------------------------------------------------------------------------
    def run(self, stop: threading.Event, duration: float | None = None) -> Counter[str]:
        """Until `stop` is set (or `duration` seconds pass); returns what was done."""
        end = time.monotonic() + duration if duration is not None else float("inf")
        if not self._wait_ready(stop, end):
            return self.tally
        self.seen.update(outbox.names(self.outbox))  # mail from before we started is not ours
        self.later(0, self._arrive)
        self.later(self.pace.scan_every, self._scan)
        self.later(self.pace.report_every, self._report, Counter(self.tally))
        while not stop.is_set() and time.monotonic() < end:
            due = self._queue[0][0]
            wait = min(due, end) - time.monotonic()
            if wait > 0:
                stop.wait(wait)
                continue
            _, _, action, args = heapq.heappop(self._queue)
            try:
                action(*args)
            except Unreachable as exc:
                self.tally["unreachable"] += 1
                log.warning("the app did not answer (%s); trying again shortly", exc)
                stop.wait(2)
            except Exception:  # noqa: BLE001 - one bad step must not end the demo's traffic
                self.tally["errors"] += 1
                log.exception("demo traffic step %s failed", getattr(action, "__name__", action))
        self.client.close()
        return self.tally

    def later(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._queue, (time.monotonic() + max(0.0, delay), next(self._seq), action, args))

    def _between(self, span: tuple[float, float]) -> float:
        return self.rng.uniform(*span)

    def _wait_ready(self, stop: threading.Event, end: float) -> bool:
        told = False
        while not stop.is_set() and time.monotonic() < end:
            try:
                if self.client.request("GET", "/readyz").status == 200:
                    return True
            except Unreachable:
                pass
            if not told:
                log.info("demo traffic: waiting for the app at %s", self.client.base_url)
                told = True
            stop.wait(1)
        return False

    def _report(self, before: Counter[str]) -> None:
        self.later(self.pace.report_every, self._report, Counter(self.tally))
        delta = self.tally - before
        if delta:
            log.info("demo traffic, last %.0fs: %s", self.pace.report_every,
                     ", ".join(f"{n} {k}" for k, n in sorted(delta.items())))

    # -- shoppers -------------------------------------------------------------------------
    def _arrive(self) -> None:
        self.later(self.rng.expovariate(self.rate / 60.0), self._arrive)
        if time.monotonic() < self._paused_until:
            return
        roll = self.rng.random()
        if roll < self.odds.signup or not self.customers:
            self._sign_up(self._new_shopper())
        elif roll < self.odds.signup + self.odds.checkout:
            fresh = self.rng.random() < self.odds.new_shopper
            who = self._new_shopper() if fresh else self.rng.choice(self.customers)
            if fresh:
                self._sign_up(who)
            self._start_checkout(who)
        else:
            self._order(self.rng.choice(self.customers), population.basket(self.rng))

    def _new_shopper(self) -> payloads.Shopper:
        country = self.rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
        first, last = self.rng.choice(country.first_names), self.rng.choice(country.last_names)
        city, _zone = self.rng.choice(country.zones)
        province = country.provinces[country.zones.index((city, _zone))] if country.provinces else None
        email = population.address_for(self.rng, first, last, country, set(self._known))
        self.next_customer += 1
        who = payloads.Shopper(population.FIRST_CUSTOMER_ID + 1009 * self.next_customer, email, first, last,
                               country.code, country.name, city, province,
                               f"{country.phone_prefix} {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}",
                               country.locale)
        self._known[email] = who
        return who

    def _sign_up(self, who: payloads.Shopper) -> None:
        consent = "subscribed" if self.rng.random() < self.odds.subscribes else "none"
        self._post("customers/create", payloads.customer(who, _now(), consent))
        self.customers.append(who)

    def _start_checkout(self, who: payloads.Shopper) -> None:
        token = uuid.UUID(int=self.rng.getrandbits(128)).hex
        lines = population.basket(self.rng)
        code = self.rng.choice(("WELCOME10", "TRAIL10")) if self.rng.random() < self.odds.discount else None
        started = _now()
        self._post("checkouts/create", self._checkout(who, token, lines, started, code))
        self.later(self._between(self.pace.checkout_update), self._update_checkout, who, token, lines, started, code)

    def _checkout(self, who: payloads.Shopper, token: str, lines: tuple[Line, ...], started: datetime,
                  code: str | None) -> dict[str, Any]:
        return payloads.checkout(who, token, lines, created_at=started, updated_at=_now(),
                                 base_url=self.client.base_url, shop_url=self.shop.shop_url, discount_code=code)

    def _update_checkout(self, who: payloads.Shopper, token: str, lines: tuple[Line, ...], started: datetime,
                         code: str | None) -> None:
        if self.rng.random() < self.odds.grows:
            extra = population.basket(self.rng)[0]
            if extra.sku not in {line.sku for line in lines}:
                lines = (*lines, extra)
        self._post("checkouts/update", self._checkout(who, token, lines, started, code))
        if self.rng.random() < self.odds.completes:
            self.later(self._between(self.pace.checkout_order), self._order, who, lines, code, token)
        else:
            self._carts[who.email] = lines  # left behind: the reminder may bring them back
            self.tally["checkouts left"] += 1

    def _order(self, who: payloads.Shopper, lines: tuple[Line, ...], code: str | None = None,
               token: str | None = None) -> None:
        number = self.next_order_number
        self.next_order_number += 1
        order_id = population.FIRST_ORDER_ID + (number - population.FIRST_ORDER_NUMBER) * 131
        self._post("orders/create", payloads.order(who, order_id, number, lines, at=_now(),
                                                   base_url=self.client.base_url, shop_url=self.shop.shop_url,
                                                   discount_code=code, checkout_token=token))
        self._carts.pop(who.email, None)

    def _post(self, topic: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "Shopify-Captain-Hook",
                   "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sign(self.shop.secret, body),
                   "X-Shopify-Shop-Domain": payloads.SHOP_DOMAIN, "X-Shopify-API-Version": "2024-07",
                   "X-Shopify-Webhook-Id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                   "X-Shopify-Triggered-At": _now().isoformat()}
        answer = self.client.request("POST", self.shop.webhook_path, body, headers)
        if answer.status == 401:
            self._refused(topic)
            return
        outcome = _outcome(answer.body)
        self.tally[topic] += 1
        log.debug("%s %s → %s %s", topic, payload.get("email") or payload.get("contact_email"), answer.status,
                  outcome)
        if answer.status >= 300:
            self.tally["refused"] += 1
            log.warning("the app refused a %s webhook: %s %s", topic, answer.status, answer.body[:300])

    def _refused(self, topic: str) -> None:
        self.tally["refused"] += 1
        fresh = self.refresh()
        if fresh is None:
            self._paused_until = time.monotonic() + 30
            log.warning("the demo source refused a %s webhook (disabled or deleted?): pausing for 30 s", topic)
        else:
            self.shop = fresh
            log.info("the demo source's secret or URL changed: using the new one")

    # -- the mail -------------------------------------------------------------------------
    def _scan(self) -> None:
        self.later(self.pace.scan_every, self._scan)
        for mail in inbox.arrivals(self.outbox, self.seen):
            age = time.time() - mail.written_at
            if mail.confirm and self.rng.random() < self.odds.confirms:
                self.later(self._between(self.pace.confirm) - age, self._confirm, mail)
            elif mail.pixel and self.rng.random() < self.odds.opens:
                self.later(self._between(self.pace.open) - age, self._open, mail)

    def _visit(self, method: str, path: str, agent: str, body: bytes | None = None,
               headers: dict[str, str] | None = None) -> int:
        return self.client.request(method, path, body, {"User-Agent": agent, **(headers or {})}).status

    def _confirm(self, mail: inbox.Mail) -> None:
        agent = self.rng.choice(READERS)
        assert mail.confirm is not None
        if self._visit("GET", mail.confirm, agent) == 200:
            self._visit("POST", mail.confirm, agent, b"", {"Content-Type": "application/x-www-form-urlencoded"})
            self.tally["confirmations"] += 1

    def _open(self, mail: inbox.Mail) -> None:
        assert mail.pixel is not None
        proxied = self.rng.random() < self.odds.apple_proxy
        self._visit("GET", mail.pixel, APPLE_PROXY if proxied else self.rng.choice(READERS))
        self.tally["opens"] += 1
        if proxied:
            return  # the proxy opens everything; whether anybody reads it is another matter
        roll = self.rng.random()
        if roll < self.odds.unsubscribes and mail.unsubscribe:
            self.later(self._between(self.pace.click), self._unsubscribe, mail)
        elif roll < self.odds.unsubscribes + self.odds.clicks and mail.clicks:
            self.later(self._between(self.pace.click), self._click, mail)

    def _click(self, mail: inbox.Mail) -> None:
        self._visit("GET", self.rng.choice(mail.clicks), self.rng.choice(READERS))
        self.tally["clicks"] += 1
        who = self._known.get(mail.to)
        if who is not None and self.rng.random() < self.odds.orders_after_click:
            lines = self._carts.get(mail.to) or population.basket(self.rng)
            self.later(self._between(self.pace.order_after_click), self._order, who, lines)

    def _unsubscribe(self, mail: inbox.Mail) -> None:
        assert mail.unsubscribe is not None
        self._visit("POST", mail.unsubscribe, self.rng.choice(READERS), b"List-Unsubscribe=One-Click",
                    {"Content-Type": "application/x-www-form-urlencoded"})
        self.tally["unsubscribes"] += 1


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _outcome(body: bytes) -> str:
    try:
        return str(json.loads(body).get("status", ""))
    except (ValueError, AttributeError):
        return ""
