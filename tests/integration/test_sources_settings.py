"""Settings → Shops: an admin adds a shop and its URL takes signed deliveries; secrets rotate, windows
change, a disabled shop is refused, only a disabled one can be deleted; bad forms change nothing."""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import AuditEntry, ShopDelivery, Source
from tests.conftest import page_csrf
from tests.shop_support import ShopSource, deliver, fixture

PAGE = "/settings/sources/"


@pytest.fixture
def admin(app, login):  # type: ignore[no-untyped-def]
    return login("admin")


def post(browser: Any, path: str, **data: str) -> Any:
    return browser.post(path, data={"csrf_token": page_csrf(browser, PAGE), **data})


def stored(application: Any) -> list[Source]:
    with application.app_context():
        return list(db.session.scalars(select(Source).order_by(Source.id)))


def as_source(row: Source, secret: str) -> ShopSource:
    return ShopSource(row.id, row.kind.value, row.webhook_path, secret)


def test_an_admin_adds_a_shopify_shop_and_its_url_takes_signed_deliveries(app, admin):
    empty = admin.get(PAGE)
    assert empty.status_code == 200 and "No shops yet" in empty.get_data(as_text=True)
    resp = post(admin, PAGE, kind="shopify", name="Main store", secret="shpss_abc", cart_window_minutes="90")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    [row] = stored(app)
    assert (row.kind.value, row.name, row.secret, row.cart_window_seconds) == ("shopify", "Main store", "shpss_abc",
                                                                              5400)
    assert f"http://127.0.0.1:5000{row.webhook_path}" in html and "shpss_abc" not in html
    assert deliver(admin, as_source(row, "shpss_abc"), "orders/create",
                   fixture("shopify/orders_create.json")).status_code == 202
    listed = admin.get(PAGE).get_data(as_text=True)
    assert "orders/create: stored" in listed and "90" in listed
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "source.created")).one()
        assert entry.actor == "admin@example.com"


def test_a_woocommerce_shop_gets_a_secret_shown_once(app, admin):
    resp = post(admin, PAGE, kind="woocommerce", name="Woo store", secret="", cart_window_minutes="60")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    [row] = stored(app)
    assert row.secret in resp.get_data(as_text=True) and len(row.secret) >= 40
    assert row.secret not in admin.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize("form, field, status", [
    ({"kind": "shopify", "name": "", "secret": "s", "cart_window_minutes": "60"}, "name", 422),
    ({"kind": "shopify", "name": "Main", "secret": "", "cart_window_minutes": "60"}, "secret", 422),
    ({"kind": "magento", "name": "Main", "secret": "s", "cart_window_minutes": "60"}, "kind", 422),
    ({"kind": "shopify", "name": "Main", "secret": "s", "cart_window_minutes": "soon"}, "cart_window_seconds", 422),
    ({"kind": "shopify", "name": "Main", "secret": "s", "cart_window_minutes": "0"}, "cart_window_seconds", 422),
    ({"kind": "shopify", "name": "Main", "secret": "s", "cart_window_minutes": "99999"}, "cart_window_seconds", 422),
])
def test_a_bad_form_is_answered_with_its_field_and_stores_nothing(app, admin, form, field, status):
    resp = post(admin, PAGE, **form)
    assert resp.status_code == status
    html = resp.get_data(as_text=True)
    assert 'class="field-error"' in html and 'aria-invalid="true"' in html, field
    assert stored(app) == []


def test_a_taken_name_is_refused(app, admin):
    post(admin, PAGE, kind="shopify", name="Main", secret="s", cart_window_minutes="60")
    resp = post(admin, PAGE, kind="woocommerce", name="Main", secret="", cart_window_minutes="60")
    assert resp.status_code == 409 and "already exists" in resp.get_data(as_text=True)
    assert len(stored(app)) == 1


def test_rotating_secrets(app, admin):
    post(admin, PAGE, kind="woocommerce", name="Woo", secret="", cart_window_minutes="60")
    post(admin, PAGE, kind="shopify", name="Shop", secret="old-key", cart_window_minutes="60")
    woo, shop = stored(app)
    old = woo.secret
    resp = post(admin, f"{PAGE}{woo.id}/secret")
    [new] = [r for r in stored(app) if r.id == woo.id]
    assert resp.status_code == 200 and new.secret != old and new.secret in resp.get_data(as_text=True)
    assert deliver(admin, as_source(new, old), "customer.created",
                   fixture("woocommerce/customer_created.json")).status_code == 401
    refused = post(admin, f"{PAGE}{shop.id}/secret", secret="")
    assert refused.status_code == 422 and "Shopify" in refused.get_data(as_text=True)
    done = post(admin, f"{PAGE}{shop.id}/secret", secret="new-key")
    assert done.status_code == 302
    assert [r.secret for r in stored(app) if r.id == shop.id] == ["new-key"]


def test_the_cart_window_changes_and_bad_values_are_refused(app, admin):
    post(admin, PAGE, kind="shopify", name="Shop", secret="k", cart_window_minutes="60")
    [row] = stored(app)
    assert post(admin, f"{PAGE}{row.id}/window", cart_window_minutes="30").status_code == 302
    assert stored(app)[0].cart_window_seconds == 1800
    assert post(admin, f"{PAGE}{row.id}/window", cart_window_minutes="x").status_code == 422
    assert post(admin, f"{PAGE}{row.id}/window", cart_window_minutes="-5").status_code == 422
    assert stored(app)[0].cart_window_seconds == 1800


def test_disable_refuses_deliveries_and_only_a_disabled_shop_can_be_deleted(app, admin):
    post(admin, PAGE, kind="shopify", name="Shop", secret="k", cart_window_minutes="60")
    [row] = stored(app)
    source = as_source(row, "k")
    deliver(admin, source, "orders/create", fixture("shopify/orders_create.json"))
    early = post(admin, f"{PAGE}{row.id}/delete")
    assert early.status_code == 409 and "Disable" in early.get_data(as_text=True) and len(stored(app)) == 1
    assert post(admin, f"{PAGE}{row.id}/enabled", enabled="0").status_code == 302
    assert deliver(admin, source, "orders/create", fixture("shopify/orders_create.json")).status_code == 401
    assert post(admin, f"{PAGE}{row.id}/enabled", enabled="1").status_code == 302
    assert deliver(admin, source, "customers/create", fixture("shopify/customers_create.json")).status_code == 202
    post(admin, f"{PAGE}{row.id}/enabled", enabled="0")
    assert post(admin, f"{PAGE}{row.id}/delete").status_code == 302
    assert stored(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ShopDelivery)) == 0
    assert post(admin, f"{PAGE}{row.id}/delete").status_code == 404


def test_the_settings_tabs_link_the_shops_page(app, admin):
    html = admin.get("/settings/").get_data(as_text=True)
    assert re.search(r'href="/settings/sources/"[^>]*>Shops<', html)
