"""`journeys sources`: create prints the webhook path alone on its last line, and that path works."""
from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app import create_app
from app.db import db
from app.models import Source
from tests.conftest import environ_for, run_cli
from tests.shop_support import ShopSource, deliver, fixture

PATH_PREFIX = {"shopify": "/api/v1/webhooks/shopify/", "woocommerce": "/api/v1/webhooks/woocommerce/"}


@pytest.fixture
def cli_app(app, settings, monkeypatch):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    # The commands build their app from the environment; this one points at the test database and Redis.
    monkeypatch.setattr("app.cli.context.create_app", lambda: application)
    yield application
    application.extensions["db_engine"].dispose()


def cli(*args: str) -> Any:
    from app.cli import main

    return CliRunner().invoke(main, list(args), prog_name="journeys")


def test_create_shopify_prints_the_path_last_and_the_path_takes_signed_deliveries(cli_app):
    made = cli("sources", "create", "shopify", "--name", "Main store", "--secret", "shpss_123")
    assert made.exit_code == 0, made.output
    lines = made.output.splitlines()
    path = lines[-1]
    assert path.startswith(PATH_PREFIX["shopify"]) and len(path) > len(PATH_PREFIX["shopify"]) + 20
    assert f"Webhook URL: http://127.0.0.1:5000{path}" in lines and "shpss_123" not in made.output
    with cli_app.app_context():
        row = db.session.scalar(select(Source))
        assert (row.kind.value, row.name, row.secret, row.cart_window_seconds) == ("shopify", "Main store",
                                                                                  "shpss_123", 3600)
        assert "main" not in row.slug.lower()  # random, not derived from the name
    source = ShopSource(row.id, "shopify", path, "shpss_123")
    resp = deliver(cli_app.test_client(), source, "orders/create", fixture("shopify/orders_create.json"))
    assert resp.status_code == 202


def test_create_woocommerce_makes_a_secret_when_none_is_given(cli_app):
    made = cli("sources", "create", "woocommerce", "--name", "Woo store", "--cart-window", "1800")
    assert made.exit_code == 0, made.output
    secret_line = next(line for line in made.output.splitlines() if line.startswith("Secret"))
    secret = secret_line.rsplit(" ", 1)[1]
    path = made.output.splitlines()[-1]
    assert path.startswith(PATH_PREFIX["woocommerce"])
    with cli_app.app_context():
        row = db.session.scalar(select(Source))
        assert (row.secret, row.cart_window_seconds) == (secret, 1800)
    listed = cli("sources", "list").output
    assert f"Woo store\twoocommerce\t{path}\t1800s\tenabled" in listed and secret not in listed


def test_create_refuses_mistakes_with_one_line_and_stores_nothing(cli_app):
    no_secret = cli("sources", "create", "shopify", "--name", "Main store")
    assert no_secret.exit_code == 1 and "Settings → Notifications → Webhooks" in no_secret.output
    assert cli("sources", "create", "shopify", "--name", "A", "--secret", "s").exit_code == 0
    twice = cli("sources", "create", "woocommerce", "--name", "A")
    assert twice.exit_code == 1 and "A source named 'A' already exists." in twice.output
    window = cli("sources", "create", "woocommerce", "--name", "B", "--cart-window", "5")
    assert window.exit_code == 1 and "cart-abandonment window" in window.output
    kind = cli("sources", "create", "magento", "--name", "C")
    assert kind.exit_code == 2
    assert "Traceback" not in no_secret.output + twice.output + window.output
    with cli_app.app_context():
        assert [s.name for s in db.session.scalars(select(Source))] == ["A"]


def test_a_disabled_source_refuses_deliveries_until_enabled(cli_app):
    path = cli("sources", "create", "shopify", "--name", "Main store", "--secret", "k").output.splitlines()[-1]
    with cli_app.app_context():
        source = ShopSource(db.session.scalar(select(Source.id)), "shopify", path, "k")
    client = cli_app.test_client()
    assert cli("sources", "disable", "Main store").output == "Disabled Main store.\n"
    assert deliver(client, source, "orders/create", fixture("shopify/orders_create.json")).status_code == 401
    assert "disabled" in cli("sources", "list").output
    assert cli("sources", "enable", "Main store").exit_code == 0
    assert deliver(client, source, "orders/create", fixture("shopify/orders_create.json")).status_code == 202
    assert cli("sources", "disable", "Nope").exit_code == 1


@pytest.mark.slow
def test_the_console_script_prints_the_path_alone_on_its_last_line(tmp_path, redis_url):
    env = environ_for(tmp_path, f"sqlite:///{tmp_path}/j.db", redis_url)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    made = run_cli("sources", "create", "shopify", "--name", "Main store", "--secret", "k", env=env)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[-1].startswith(PATH_PREFIX["shopify"])
    listed = run_cli("sources", "list", env=env)
    assert made.stdout.splitlines()[-1] in listed.stdout
