"""The demo shop's customers and their order histories, made up the same way every time.

Pure: a seeded `random.Random` and the `now` passed in decide everything, so the same seed
gives the same people, addresses, consent and orders (dated relative to `now`) on every
machine. The loader (app/demo/loader.py) writes them through the app's own services.
"""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from app.demo import catalog
from app.demo.people import COUNTRIES, INTERESTS, SIGNUP_FORMS, USER_AGENTS, Country

Consent = Literal["subscribed", "unsubscribed", "unconfirmed", "none"]

#: The seed of the demo population.
SEED = 20240601
#: Customers in the demo shop.
COUNT = 1000
#: Orders go back this far; signups up to half a year further.
HISTORY = timedelta(days=365)
#: How a customer's marketing consent stands today, with its share (out of 100).
CONSENT_SHARES: tuple[tuple[Consent, int], ...] = (("subscribed", 78), ("unsubscribed", 10),
                                                    ("unconfirmed", 4), ("none", 8))
#: Orders per customer, with its share (out of 100): a quarter never bought.
ORDER_COUNTS = ((0, 24), (1, 34), (2, 18), (3, 10), (4, 6), (5, 4), (7, 3), (11, 1))
#: A customer whose orders add up to this much is a VIP.
VIP_SPEND = Decimal("600")
#: The first Shopify customer id and order id (made up, shaped like Shopify's).
FIRST_CUSTOMER_ID = 7208563400011
FIRST_ORDER_ID = 5903311700017
FIRST_ORDER_NUMBER = 1001


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int

    @property
    def product(self) -> catalog.Product:
        return catalog.BY_SKU[self.sku]


@dataclass(frozen=True)
class Order:
    order_id: int
    number: int
    at: datetime
    lines: tuple[Line, ...]
    discount_code: str | None

    @property
    def subtotal(self) -> Decimal:
        return sum((line.product.price * line.quantity for line in self.lines), Decimal("0"))

    @property
    def discount(self) -> Decimal:
        return (self.subtotal / 10).quantize(Decimal("0.01")) if self.discount_code else Decimal("0.00")

    @property
    def shipping(self) -> Decimal:
        return Decimal("0.00") if self.subtotal >= catalog.FREE_SHIPPING_FROM else catalog.SHIPPING

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.shipping


@dataclass(frozen=True)
class Person:
    customer_id: int
    first_name: str
    last_name: str
    email: str
    country: Country
    city: str
    province: str | None
    timezone: str
    signed_up_at: datetime
    consent: Consent
    signup_form: str
    user_agent: str
    #: When the double opt-in was clicked (subscribed and unsubscribed people), and when they left.
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    interests: tuple[str, ...]
    orders: tuple[Order, ...]
    phone: str

    @property
    def locale(self) -> str:
        return self.country.locale

    @property
    def total_spent(self) -> Decimal:
        return sum((o.total for o in self.orders), Decimal("0"))

    @property
    def tags(self) -> list[str]:
        tags = set(self.interests)
        if self.total_spent >= VIP_SPEND:
            tags.add("vip")
        if len(self.orders) >= 3:
            tags.add("repeat-buyer")
        return sorted(tags)


def ascii_fold(text: str) -> str:
    """"Łukasz Wiśniewski" → "lukasz wisniewski": for the local part of an address."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in " -'")).lower()


def _weighted(rng: random.Random, pairs: tuple[tuple[object, int], ...]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def address_for(rng: random.Random, first: str, last: str, country: Country, taken: set[str]) -> str:
    first_part, last_part = ascii_fold(first).replace(" ", ""), ascii_fold(last).replace(" ", "").replace("'", "")
    shapes = (f"{first_part}.{last_part}", f"{first_part}{last_part[:1]}", f"{first_part[:1]}{last_part}",
              f"{first_part}_{last_part}")
    local = rng.choice(shapes)
    domain = rng.choice(country.domains)
    address, n = f"{local}@{domain}", 1
    while address in taken:
        n += 1
        address = f"{local}{rng.randint(2, 99) if n < 5 else n}@{domain}"
    taken.add(address)
    return address


def basket(rng: random.Random) -> tuple[Line, ...]:
    """One to three products, sometimes two of one (socks, mugs)."""
    skus = rng.sample([p.sku for p in catalog.PRODUCTS], k=rng.choices((1, 2, 3), weights=(55, 33, 12))[0])
    return tuple(Line(sku, 2 if catalog.BY_SKU[sku].price < 40 and rng.random() < 0.25 else 1) for sku in skus)


def _order_times(rng: random.Random, count: int, earliest: datetime, now: datetime, zone: str) -> list[datetime]:
    """`count` moments between `earliest` and `now`, in the daytime and evening of `zone`."""
    span = (now - earliest).total_seconds()
    local = ZoneInfo(zone)
    times = []
    # Shopping grows towards the last months (the shop is growing).
    for moment in sorted(earliest + timedelta(seconds=span * (1 - rng.random() ** 1.6)) for _ in range(count)):
        at = moment.astimezone(local).replace(hour=rng.choice((9, 11, 12, 13, 17, 19, 20, 21)),
                                              minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
        at = at.astimezone(timezone.utc)
        if at > now:
            at -= timedelta(days=1)
        times.append(max(at, earliest))
    return sorted(times)


def population(now: datetime, *, seed: int = SEED, count: int = COUNT) -> list[Person]:
    """`count` customers as of `now`, orders numbered in the order they were placed."""
    rng = random.Random(seed)
    taken: set[str] = set()
    drafts = []
    countries = tuple((c, c.weight) for c in COUNTRIES)
    for index in range(count):
        country: Country = _weighted(rng, countries)  # type: ignore[assignment]
        first, last = rng.choice(country.first_names), rng.choice(country.last_names)
        city_index = rng.randrange(len(country.zones))
        city, zone = country.zones[city_index]
        signed_up = (now - HISTORY - timedelta(days=180)
                     + timedelta(seconds=int(rng.random() * (HISTORY.days + 175) * 86400)))
        consent: Consent = _weighted(rng, CONSENT_SHARES)  # type: ignore[assignment]
        confirmed = signed_up + timedelta(minutes=rng.randint(1, 240)) if consent in ("subscribed", "unsubscribed") else None
        n_orders: int = _weighted(rng, ORDER_COUNTS)  # type: ignore[assignment]
        earliest = max(signed_up, now - HISTORY)
        times = _order_times(rng, n_orders, earliest, now - timedelta(hours=1), zone) if earliest < now else []
        unsubscribed = None
        if consent == "unsubscribed":
            start = confirmed or signed_up
            unsubscribed = start + timedelta(seconds=rng.random() * max((now - start).total_seconds() - 3600, 60))
        drafts.append((index, first, last, country, city, zone, signed_up, consent, confirmed, unsubscribed,
                       [(t, basket(rng), rng.choice(catalog.DISCOUNT_CODES) if rng.random() < 0.15 else None)
                        for t in times],
                       tuple(sorted(rng.sample(INTERESTS, k=rng.choices((0, 1, 2), weights=(30, 50, 20))[0]))),
                       rng.choice(SIGNUP_FORMS), rng.choice(USER_AGENTS),
                       address_for(rng, first, last, country, taken),
                       f"{country.phone_prefix} {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)}"))
    # Order ids and numbers grow with time across the whole shop, as Shopify's do.
    stamps = sorted((t, index, k) for d in drafts for k, (t, _, _) in enumerate(d[10]) for index in (d[0],))
    numbering = {(index, k): n for n, (_, index, k) in enumerate(stamps)}
    people = []
    for (index, first, last, country, city, zone, signed_up, consent, confirmed, unsubscribed, raw, interests,
         form, agent, email, phone) in drafts:
        orders = tuple(Order(FIRST_ORDER_ID + numbering[(index, k)] * 131, FIRST_ORDER_NUMBER + numbering[(index, k)],
                             t, lines, code) for k, (t, lines, code) in enumerate(raw))
        province = country.provinces[country.zones.index((city, zone))] if country.provinces else None
        people.append(Person(FIRST_CUSTOMER_ID + index * 1009, first, last, email, country, city, province, zone,
                             signed_up, consent, form, agent, confirmed, unsubscribed, interests, orders, phone))
    return people


def orders_in_time(people: list[Person]) -> list[tuple[Person, Order]]:
    """Every order of every customer, oldest first."""
    return sorted(((p, o) for p in people for o in p.orders), key=lambda pair: pair[1].number)
