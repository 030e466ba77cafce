"""`journeys demo`: load the demo shop; `journeys demo traffic`: live shop traffic for it.

`journeys up --demo` (what `make run` runs) loads the demo into an empty instance first, and
`journeys up` starts the traffic generator as one of its processes wherever the demo is loaded
(docs/demo.md).
"""
from __future__ import annotations

import random
import signal
import threading
import time
from typing import TYPE_CHECKING

import click

from app import clock, instance_lock, migrate
from app.cli import progress
from app.cli.context import operator
from app.config import Settings, load_settings
from app.db import db, make_engine
from app.errors import NotFound, ServiceUnavailable
from app.logs import setup_logging

if TYPE_CHECKING:
    from app.demo.loader import Report

#: Shoppers a minute `journeys up` sends through a demo instance: enough to watch, no flood.
UP_RATE = 6.0


@click.group("demo", invoke_without_command=True)
@click.option("--reset", is_flag=True, help="Empty this demo instance (contacts, events, journeys, templates, "
                                            "settings, the outbox's mail; users, API keys and the audit log "
                                            "stay) and load the demo afresh.")
@click.option("--yes", is_flag=True, help="With --reset: do not ask first.")
@click.pass_context
def demo_group(ctx: click.Context, reset: bool, yes: bool) -> None:
    """Load the demo shop into an empty instance: ~1,000 customers across Europe and America with a
    year of orders, four published journeys, their templates, and a Shopify source.

    Loading twice changes nothing; an instance that holds data of its own is refused. Then
    `journeys demo traffic` (or `journeys up`) brings live shop traffic. Details: docs/demo.md.
    """
    if ctx.invoked_subcommand is not None:
        if reset or yes:
            raise click.UsageError("--reset and --yes go with `journeys demo` alone.")
        return
    settings = load_settings()
    if not reset and _loaded(settings):
        click.echo("The demo shop is loaded already: nothing changed. `journeys demo --reset` loads it afresh.")
        return
    if reset and not yes:
        click.confirm(f"Empty the demo instance {settings.instance_path} (its contacts, journeys, templates and "
                      "mail) and load the demo again?", abort=True, err=True)
    report = load_demo(settings, reset=reset)
    for line in summary(report):
        click.echo(line)


def _loaded(settings: Settings) -> bool:
    from app import create_app
    from app.demo import loader

    _migrated(settings)
    app = create_app(settings)
    with app.app_context():
        here = loader.demo_source(db.session) is not None
    app.extensions["db_engine"].dispose()
    return here


def _migrated(settings: Settings) -> None:
    from app.cli.db import database_problem

    engine = make_engine(settings)
    try:
        migrate.upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - one line, as `journeys up` says it
        raise ServiceUnavailable(database_problem(engine.url.render_as_string(), exc)) from None
    finally:
        engine.dispose()


def load_demo(settings: Settings, *, reset: bool = False) -> Report:
    """Migrate, then load (after emptying, with `reset`): the loader's Report. Refused while a
    process of this SQLite instance runs: the load writes a year of history in one go."""
    from app import create_app
    from app.demo import loader

    _migrated(settings)
    with instance_lock.exclusive(settings):
        app = create_app(settings)
        with app.app_context():
            now, by = clock.now(), operator()
            if reset:
                removed = loader.reset(db.session, settings, now=now, by=by)
                click.echo(f"Emptied the demo instance ({removed} messages removed from the outbox).", err=True)
            began = time.monotonic()
            with progress.bar(loader.work(now=now), "Loading the demo shop") as bar:
                report = loader.load(db.session, settings, now=now, by=by, advance=bar.advance)
            report.seconds = time.monotonic() - began
        app.extensions["db_engine"].dispose()
    return report


def summary(report: Report, *, up: bool = False) -> list[str]:
    from app.demo.loader import CART_WINDOW, SHOP

    return [
        f"Loaded the demo shop {SHOP['shop_name']} in {report.seconds:.0f} s:",
        f"  {report.contacts:,} contacts ({report.consent_records:,} consent records) and {report.orders:,} "
        "orders over the past year",
        f"  {len(report.journeys)} journeys published: " + "; ".join(name for _, name in report.journeys),
        f"  {len(report.templates)} templates: {', '.join(report.templates)}",
        f"  Shopify source {report.source!r} at {report.webhook_path} (a checkout without an order is "
        f"abandoned after {CART_WINDOW // 60} minutes)",
    ] + ([] if up else ["Live traffic: `journeys demo traffic` (`journeys up` starts it by itself)."])


def for_up(settings: Settings, wanted: bool | None) -> bool:
    """Before `journeys up` starts its processes. `wanted` True: load the demo into an empty
    instance; None: only notice an existing one; False: ignore it. True when the demo is here."""
    from app import create_app
    from app.demo import loader

    if wanted is False:
        return False
    app = create_app(settings)
    with app.app_context():
        here = loader.demo_source(db.session) is not None
        held = {k: v for k, v in loader.holdings(db.session).items() if v}
    app.extensions["db_engine"].dispose()
    if here or not wanted:
        return here
    if held:
        click.echo("This instance holds data of its own, so the demo shop was not loaded "
                   "(`journeys up --no-demo` skips this check).", err=True)
        return False
    for line in summary(load_demo(settings), up=True):
        click.echo(line)
    return True


@demo_group.command("traffic")
@click.option("--rate", type=click.FloatRange(min=0.1, max=600), default=None, show_default="10",
              help="Shoppers a minute; each posts one to three webhooks.")
@click.option("--url", default=None, help="The running app to post to. Default: BASE_URL.")
@click.option("--duration", type=click.FloatRange(min=1), default=None,
              help="Stop after this many seconds. Default: until Ctrl-C (or SIGTERM).")
@click.option("--seed", type=int, default=None, help="Seed of the generator (default: a new one each run).")
@click.option("-v", "--verbose", is_flag=True, help="Log every webhook.")
def traffic(rate: float | None, url: str | None, duration: float | None, seed: int | None, verbose: bool) -> None:
    """Post Shopify webhooks of the demo shop (signups, checkouts, orders), signed with its
    source's secret, to the running app; confirm, open and click the mail it sends."""
    from app.cli.context import app_context
    from app.demo import loader
    from app.demo.client import Client
    from app.demo.habits import DEFAULT_RATE
    from app.demo.traffic import Traffic

    settings = load_settings()
    setup_logging(json_lines=settings.log_json, level="DEBUG" if verbose else settings.log_level, process="traffic")
    with app_context() as app:
        setup = loader.traffic_setup(db.session)
    if setup is None:
        raise NotFound(f"This instance has no enabled demo source ({loader.SOURCE_NAME!r}): load the demo with "
                       "`journeys demo` first, or enable the source under Settings → Shops.")
    try:
        client = Client(url or settings.base_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None
    if settings.smtp_url:
        click.echo("SMTP_URL is set, so mail goes to that server: the demo's shoppers cannot read it "
                   "(no confirmations, opens or clicks).", err=True)

    def refresh():  # type: ignore[no-untyped-def]
        with app.app_context():
            return loader.shop_of(db.session)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    generator = Traffic(client, setup.shop, settings.outbox_path, setup.customers, rate=rate or DEFAULT_RATE,
                        rng=random.Random(seed), next_order_number=setup.next_order_number,
                        next_customer=setup.next_customer, refresh=refresh)
    click.echo(f"Demo traffic to {client.base_url} at {generator.rate:g} shoppers a minute; Ctrl-C stops it.",
               err=True)
    tally = generator.run(stop, duration)
    click.echo("Demo traffic: " + (", ".join(f"{n} {k}" for k, n in sorted(tally.items())) or "nothing sent"))
