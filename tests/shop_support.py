"""Support for shop webhook tests: sources made as the CLI makes them, and deliveries signed and
headed exactly as Shopify and WooCommerce send them."""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from app import clock, create_app
from app.db import db
from app.integrations.signature import sign
from app.models import Event, ShopDelivery, SourceKind
from app.services import sources

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET = "hush-its-a-secret"
#: Where the clock stands when a shop test begins.
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
_ids = itertools.count(1)


@dataclass(frozen=True)
class ShopSource:
    id: int
    kind: str
    path: str
    secret: str


@pytest.fixture
def shop_app(app, settings) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The app, with the clock at T0."""
    application = create_app(settings)
    clock.set_source(lambda: T0)
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def client(shop_app):  # type: ignore[no-untyped-def]
    return shop_app.test_client()


@pytest.fixture
def shopify(shop_app) -> ShopSource:  # type: ignore[no-untyped-def]
    return make_source(shop_app, "shopify", name="Main store")


def make_source(application: Any, kind: str = "shopify", *, name: str | None = None, secret: str = SECRET,
                window: int = 3600) -> ShopSource:
    with application.app_context():
        with db.transaction() as s:
            row = sources.create(s, kind=SourceKind(kind), name=name or f"{kind} store", secret=secret,
                                 cart_window_seconds=window, by="test", now=clock.now())
            return ShopSource(row.id, kind, row.webhook_path, secret)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def shopify_headers(topic: str, body: bytes, secret: str, webhook_id: str | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(secret, body), "X-Shopify-Shop-Domain": "example.myshopify.com",
            "X-Shopify-API-Version": "2025-10", "X-Shopify-Webhook-Id": webhook_id or f"b54557e4-{next(_ids):04d}",
            "X-Shopify-Triggered-At": "2026-12-01T10:00:00.000000Z", "X-Shopify-Event-Id": f"evt-{next(_ids)}"}


def woo_headers(topic: str, body: bytes, secret: str, delivery_id: str | None = None) -> dict[str, str]:
    resource, _, event = topic.partition(".")
    return {"Content-Type": "application/json", "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
            "X-WC-Webhook-Source": "https://shop.example/", "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign(secret, body), "X-WC-Webhook-ID": "3",
            "X-WC-Webhook-Delivery-ID": delivery_id or f"36e520ebabc2fa725092ff4a47ace{next(_ids):03d}"}


def deliver(client: Any, source: ShopSource, topic: str, payload: Any, *, delivery_id: str | None = None,
            secret: str | None = None) -> Any:
    """POST `payload` to the source as its shop would, signed with `secret` (default: the source's)."""
    body = json.dumps(payload).encode()
    make = shopify_headers if source.kind == "shopify" else woo_headers
    return client.post(source.path, data=body, headers=make(topic, body, secret or source.secret, delivery_id))


def counts(application: Any) -> tuple[int, int]:
    """(events stored, deliveries recorded)."""
    with application.app_context():
        return (db.session.scalar(select(func.count()).select_from(Event)) or 0,
                db.session.scalar(select(func.count()).select_from(ShopDelivery)) or 0)


def events_named(application: Any, name: str) -> list[Event]:
    with application.app_context():
        return list(db.session.scalars(select(Event).where(Event.name == name).order_by(Event.id)))
