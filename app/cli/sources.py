"""`journeys sources …`: the shops that send us webhooks (Shopify, WooCommerce)."""
from __future__ import annotations

import click

from app import clock
from app.cli.context import app_context, operator
from app.db import db
from app.models import SourceKind
from app.services import sources


@click.group("sources")
def sources_group() -> None:
    """Shops whose webhooks feed journeys: each gets its own URL and secret."""


@sources_group.command()
@click.argument("kind", type=click.Choice([k.value for k in SourceKind]))
@click.option("--name", required=True, help="A name for this shop, unique (e.g. 'Main store').")
@click.option("--secret", default=None, envvar="JOURNEYS_SOURCE_SECRET", show_envvar=True,
              help="The webhook signing secret (the variable keeps it out of shell history). Shopify: the key "
                   "its webhook settings show (or your app's client secret). WooCommerce: omit it to have one "
                   "made, then paste it into the webhook.")
@click.option("--cart-window", "cart_window", type=int, default=sources.DEFAULT_CART_WINDOW, show_default=True,
              help="Seconds a checkout waits for an order before it counts as abandoned.")
def create(kind: str, name: str, secret: str | None, cart_window: int) -> None:
    """Add a shop; prints the webhook path alone on the last line.

    \b
    Shopify:     journeys sources create shopify --name "Main store" --secret KEY
    WooCommerce: journeys sources create woocommerce --name "Woo store"
    """
    source_kind = SourceKind(kind)
    made_secret = secret is None and source_kind is SourceKind.woocommerce
    if made_secret:
        secret = sources.new_secret()
    with app_context() as app:
        with db.transaction() as s:
            row = sources.create(s, kind=source_kind, name=name, secret=secret, cart_window_seconds=cart_window,
                                 by=operator(), now=clock.now())
        url = app.config["SETTINGS"].base_url + row.webhook_path
    click.echo(f"Created {kind} source {row.name!r}.")
    if made_secret:
        click.echo(f"Secret (paste it into the webhook's Secret field; it is not shown again): {secret}")
    click.echo(f"Webhook URL: {url}")
    click.echo("Setup, topics and what each becomes: docs/integrations.md")
    click.echo(row.webhook_path)


@sources_group.command("list")
def list_() -> None:
    """List the sources: name, kind, webhook path, cart window, state."""
    with app_context():
        rows = sources.listing(db.session)
    if not rows:
        click.echo("No sources yet. Add one with `journeys sources create shopify|woocommerce --name N`.")
    for row in rows:
        state = "disabled" if row.disabled else "enabled"
        click.echo(f"{row.name}\t{row.kind.value}\t{row.webhook_path}\t{row.cart_window_seconds}s\t{state}")


@sources_group.command()
@click.argument("name")
def disable(name: str) -> None:
    """Refuse NAME's deliveries (401) until it is enabled again."""
    _set_disabled(name, True)


@sources_group.command()
@click.argument("name")
def enable(name: str) -> None:
    """Accept NAME's deliveries again."""
    _set_disabled(name, False)


def _set_disabled(name: str, disabled: bool) -> None:
    with app_context():
        with db.transaction() as s:
            row = sources.set_disabled(s, name, disabled, by=operator())
    click.echo(f"{'Disabled' if disabled else 'Enabled'} {row.name}.")
