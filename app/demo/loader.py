"""Loading the demo shop into an empty instance, through the app's own services.

Contacts are created by the upsert events use (events.upsert_contact) on the day they signed
up; their consent by the consent service (app/services/consent.py) as it happened: the
signup form's `unconfirmed`, the double opt-in click's `subscribed`, an unsubscribe link
later. Their order history becomes Shopify `orders/create` bodies, translated by the
Shopify mapping and stored and processed by the event pipeline (events.ingest_many,
events.process_pending), so orders_count, total_spent and last_order_at are what live
webhooks would have made them. The journeys are published last: history enrolls nobody.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.demo import content, shopify as payloads
from app.demo.people import COUNTRIES
from app.demo.population import COUNT, FIRST_ORDER_NUMBER, SEED, Order, Person, orders_in_time, population
from app.errors import Conflict
from app.integrations import shopify as mapping
from app.integrations.outcomes import Emit
from app.models import Contact, Event, Journey, Source, SourceKind, Template
from app.services import audit_log, consent, events, sources, workspace
from app.services import journeys as journey_service
from app.services import templates as template_service
from app.services.event_input import parse
from app.starters.journey_starters import create_from_starter

if TYPE_CHECKING:
    from app.demo.traffic import Shop

#: The demo's shop source: its presence is what "the demo is loaded" means.
SOURCE_NAME = "Alder & Stone (demo)"
#: Seconds a demo checkout waits for its order before it is abandoned: short, to watch it happen.
CART_WINDOW = 120
#: Rows per transaction.
CHUNK = 250
SHOP = {"shop_name": "Alder & Stone Outfitters", "shop_url": "https://alder-and-stone.example",
        "shop_address": "Alder & Stone Outfitters GmbH, Bergstraße 12, 80331 München, Germany",
        "from_name": "Alder & Stone", "from_address": "hello@alder-and-stone.example",
        "reply_to": "care@alder-and-stone.example", "default_timezone": "Europe/Berlin",
        "double_opt_in": True, "currency": "EUR", "consent_wording": "signup-2024-03"}
#: Addresses reserved for documentation (RFC 5737), for the consent records' IP addresses.
_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")

T = TypeVar("T")
Advance = Callable[[int], None]


@dataclass
class Report:
    contacts: int = 0
    orders: int = 0
    consent_records: int = 0
    templates: list[str] = field(default_factory=list)
    journeys: list[tuple[int, str]] = field(default_factory=list)
    source: str = SOURCE_NAME
    webhook_path: str = ""
    seconds: float = 0.0


def demo_source(db: Session) -> Source | None:
    return db.scalar(select(Source).where(Source.name == SOURCE_NAME))


def holdings(db: Session) -> dict[str, int]:
    """What the instance holds already (users aside): the demo loads into an empty one only."""
    return {name: db.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (("contacts", Contact), ("journeys", Journey), ("templates", Template),
                                ("sources", Source), ("events", Event))}


def work(count: int = COUNT, seed: int = SEED, *, now: datetime) -> int:
    """Units of progress a load reports: contacts, then each order stored and processed, then journeys."""
    people = population(now, seed=seed, count=count)
    return len(people) + 2 * sum(len(p.orders) for p in people) + len(content.JOURNEYS)


def load(db: Session, settings: Settings, *, now: datetime, by: str, count: int = COUNT, seed: int = SEED,
         advance: Advance = lambda n: None) -> Report:
    """Load the demo shop (commits as it goes); Conflict when the instance is not empty."""
    if demo_source(db) is not None:
        raise Conflict(f"The demo shop is loaded already (source {SOURCE_NAME!r}): nothing changed. "
                       "`journeys demo --reset` loads it afresh.")
    held = {k: v for k, v in holdings(db).items() if v}
    if held:
        raise Conflict("The demo loads into an empty instance only, and this one holds "
                       + ", ".join(f"{v} {k}" for k, v in held.items())
                       + ": nothing changed. Use another INSTANCE_PATH (or DATABASE_URL) for the demo.")
    report = Report()
    workspace.update(db, SHOP, actor=by, now=now)
    source = sources.create(db, kind=SourceKind.shopify, name=SOURCE_NAME, secret=secrets.token_urlsafe(32),
                            cart_window_seconds=CART_WINDOW, by=by, now=now)
    report.webhook_path = source.webhook_path
    db.commit()
    people = population(now, seed=seed, count=count)
    for chunk in _chunks(people):
        for person in chunk:
            report.consent_records += _contact(db, person, source)
        db.commit()
        db.expunge_all()
        report.contacts += len(chunk)
        advance(len(chunk))
    source = db.get(Source, source.id)  # type: ignore[assignment]
    report.orders = _orders(db, settings, source, orders_in_time(people), now, advance)
    report.templates, report.journeys = _journeys(db, settings, now, by)
    advance(len(content.JOURNEYS))
    audit_log.write(db, actor=by, action="demo.load", target=f"source:{source.id}", now=now, seed=seed,
                    contacts=report.contacts, orders=report.orders, journeys=[j for j, _ in report.journeys])
    db.commit()
    return report


#: What a reset keeps: who signs in and their keys, the audit log (append-only), the webhook allow-list.
KEEP = frozenset({"users", "user_sessions", "api_keys", "audit_log", "webhook_hosts"})


def reset(db: Session, settings: Settings, *, now: datetime, by: str) -> int:
    """Empty a demo instance for a fresh load (commits): every table but KEEP, and the outbox's
    messages. Refused (Conflict) unless the demo was loaded here. Returns the messages removed."""
    from app.mail import outbox
    from app.models import Base

    source = demo_source(db)
    if source is None:
        raise Conflict("`--reset` empties a demo instance only, and the demo shop was never loaded into this "
                       "one: nothing changed.")
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in KEEP:
            db.execute(table.delete())
    audit_log.write(db, actor=by, action="demo.reset", target=f"source:{source.id}", now=now)
    db.commit()
    removed = 0
    for name in outbox.names(settings.outbox_path):
        (settings.outbox_path / name).unlink(missing_ok=True)
        removed += 1
    return removed


def _chunks(rows: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _contact(db: Session, person: Person, source: Source) -> int:
    """The contact as the shop first knew it, and its consent history; returns records written."""
    contact = events.upsert_contact(db, {
        "email": person.email, "external_id": str(person.customer_id),
        "attributes": {"first_name": person.first_name, "last_name": person.last_name,
                       "country": person.country.code, "city": person.city, "phone": person.phone},
        "tags": person.tags, "timezone": person.timezone, "locale": person.locale,
    }, person.signed_up_at, origin=source.label)
    if person.consent == "none":
        return 0
    ip = _NETS[person.customer_id % 3] + str(1 + person.customer_id % 250)
    asked = dict(ip=ip, user_agent=person.user_agent, wording=SHOP["consent_wording"])
    written = consent.change(db, contact, "marketing", "unconfirmed", source="form", now=person.signed_up_at,
                             details={"form": person.signup_form}, **asked) is not None
    if person.confirmed_at is not None:
        written += consent.change(db, contact, "marketing", "subscribed", source="confirmation",
                                  now=person.confirmed_at, details={"message": "double opt-in email"},
                                  **asked) is not None
    if person.unsubscribed_at is not None:
        written += consent.change(db, contact, "marketing", "unsubscribed", source="link",
                                  now=person.unsubscribed_at, details={"via": "unsubscribe link in an email"},
                                  ip=ip, user_agent=person.user_agent) is not None
    return int(written)


def order_body(settings: Settings, person: Person, order: Order) -> dict[str, object]:
    return payloads.order(payloads.Shopper.of(person), order.order_id, order.number, order.lines, at=order.at,
                          base_url=settings.base_url, shop_url=str(SHOP["shop_url"]),
                          discount_code=order.discount_code)


def _orders(db: Session, settings: Settings, source: Source, history: list[tuple[Person, Order]], now: datetime,
            advance: Advance) -> int:
    """Store the history as the Shopify webhooks would have, oldest first, then process it."""
    for chunk in _chunks(history, 500):
        items = []
        for person, order in chunk:
            outcome = mapping.map_webhook("orders/create", order_body(settings, person, order))
            assert isinstance(outcome, Emit), outcome
            items.append((parse(outcome.event), f"{source.kind.value}:{source.slug}:{outcome.key}"))
        events.ingest_many(db, items, source=source.label, now=now)
        advance(len(chunk))
    while True:
        before = events.pending(db)
        if not before:
            return len(history)
        events.process_pending(db, now, limit=events.BATCH)
        db.expunge_all()
        advance(before - events.pending(db))


def _journeys(db: Session, settings: Settings, now: datetime, by: str) -> tuple[list[str], list[tuple[int, str]]]:
    made = []
    for data in content.templates(settings.base_url, str(SHOP["shop_url"])):
        made.append(template_service.create_template(db, data, user_id=None, now=now, by=by).slug)
    published = []
    for demo in content.JOURNEYS:
        journey = create_from_starter(db, demo.starter, name=demo.name, user_id=None, now=now)
        journey_service.update_draft(db, journey, graph=demo.change(journey.draft), user_id=None, now=now, by=by)
        journey_service.publish_journey(db, journey, user=None, now=now, by=by,
                                                  notes="The demo shop's journey, from the starter.")
        published.append((journey.id, journey.name))
    made += sorted(set(db.scalars(select(Template.slug))) - set(made))
    db.commit()
    return made, published


@dataclass(frozen=True)
class TrafficSetup:
    """What the traffic generator needs from the database, read once when it starts."""
    shop: Shop
    customers: list[payloads.Shopper]
    next_order_number: int
    next_customer: int


def shop_of(db: Session) -> Shop | None:
    """The demo source as the traffic generator posts to it; None when it is gone or disabled."""
    from app.demo.traffic import Shop

    source = demo_source(db)
    if source is None or source.disabled:
        return None
    return Shop(source.webhook_path, source.secret, workspace.current(db).shop_url or str(SHOP["shop_url"]))


def traffic_setup(db: Session) -> TrafficSetup | None:
    shop = shop_of(db)
    if shop is None:
        return None
    countries = {c.code: c for c in COUNTRIES}
    customers = []
    rows = db.execute(select(Contact.email, Contact.external_id, Contact.attributes, Contact.locale)
                      .where(Contact.external_id.is_not(None), Contact.erased_at.is_(None)).order_by(Contact.id))
    for email, external_id, attributes, locale in rows:
        attributes = attributes or {}
        country = countries.get(str(attributes.get("country")), countries["DE"])
        if not str(external_id).isdigit():
            continue
        customers.append(payloads.Shopper(int(external_id), email, str(attributes.get("first_name") or ""),
                                          str(attributes.get("last_name") or ""), country.code, country.name,
                                          str(attributes.get("city") or country.zones[0][0]), None,
                                          str(attributes.get("phone") or ""), locale or country.locale))
    orders = db.scalar(select(func.count()).select_from(Event).where(Event.name == "order_placed")) or 0
    return TrafficSetup(shop, customers, FIRST_ORDER_NUMBER + orders, len(customers) + 1)
