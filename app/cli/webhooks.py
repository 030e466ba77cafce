"""`journeys webhooks …`: the hosts webhook nodes may call, kept by an admin."""
from __future__ import annotations

import click

from app import clock
from app.cli.context import app_context, operator
from app.db import db
from app.services import webhook_hosts


@click.group()
def webhooks() -> None:
    """The allow-list of hosts webhook nodes may call: nothing else is ever requested."""


@webhooks.command()
@click.argument("host")
@click.option("--by", "added_by", default=None, help="Who allowed it, for the record (default: cli:<OS user>).")
def allow(host: str, added_by: str | None) -> None:
    """Allow webhook nodes to call HOST.

    \b
    HOST is a host name or IP address (any port), or '*.example.com' for
    every subdomain of example.com (not example.com itself).
    """
    with app_context():
        with db.transaction() as s:
            row, created = webhook_hosts.allow(s, host, added_by or operator(), clock.now())
    click.echo(f"Allowed {row.pattern}." if created else f"{row.pattern} was already allowed.")


@webhooks.command()
@click.argument("host")
def disallow(host: str) -> None:
    """Stop webhook nodes calling HOST (write it as it was allowed).

    Calls already queued for it fail when their turn comes, with the reason.
    """
    with app_context():
        with db.transaction() as s:
            pattern = webhook_hosts.disallow(s, host, operator())
    click.echo(f"Disallowed {pattern}.")


@webhooks.command("list")
def list_() -> None:
    """List the allowed host patterns, who added them and when."""
    with app_context():
        rows = webhook_hosts.listing(db.session)
    if not rows:
        click.echo("No host is allowed: webhook nodes call nothing. Add one with `journeys webhooks allow HOST`.")
    for row in rows:
        click.echo(f"{row.pattern}\t{row.added_by}\t{row.added_at.isoformat(timespec='seconds')}")
