"""`journeys api-keys …`: keys for the HTTP API."""
from __future__ import annotations

import click

from app import clock
from app.cli.context import app_context, operator
from app.db import db
from app.services import api_keys

SCOPE_HELP = "; ".join(f"{name}: {what}" for name, what in api_keys.SCOPES.items())


@click.group("api-keys")
def api_keys_group() -> None:
    """Keys for the HTTP API (Authorization: Bearer KEY)."""


@api_keys_group.command()
@click.option("--name", required=True, help="What uses the key, e.g. 'shop backend'.")
@click.option("--scopes", required=True, help=f"Comma-separated. {SCOPE_HELP}.")
@click.option("--signed", is_flag=True,
              help="Also make a signing secret: every request with this key must then be signed "
                   "(Standard Webhooks).")
def create(name: str, scopes: str, signed: bool) -> None:
    """Create a key. It is printed once, alone on the last line, so scripts can capture it:

    \b
        KEY=$(journeys api-keys create --name shop --scopes events:write | tail -n 1)
    """
    with app_context():
        with db.transaction() as s:
            issued = api_keys.create(s, name=name, scopes=scopes, signed=signed, actor=None,
                                     by=operator(), now=clock.now())
    click.echo(f"Created API key {issued.row.id} ({issued.row.prefix}…) '{issued.row.name}' "
               f"with scopes {', '.join(issued.row.scopes)}. It is shown once: store it now.")
    if issued.signing_secret:
        click.echo(f"Signing secret (Standard Webhooks): {issued.signing_secret}")
    click.echo(issued.key)


@api_keys_group.command("list")
def list_() -> None:
    """List keys: id, prefix, name, scopes, status, last use."""
    with app_context():
        rows = api_keys.listing(db.session)
    if not rows:
        click.echo("No API keys. Create one with `journeys api-keys create --name N --scopes events:write`.")
    for row in rows:
        status = "active" if row.active else f"revoked {row.revoked_at:%Y-%m-%d}"
        used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never used"
        signed = "\tsigned" if row.signing_secret else ""
        click.echo(f"{row.id}\t{row.prefix}…\t{row.name}\t{','.join(row.scopes)}\t{status}\t{used}{signed}")


@api_keys_group.command()
@click.argument("key_id", type=int)
def revoke(key_id: int) -> None:
    """Revoke key KEY_ID: its next request is refused (401)."""
    with app_context():
        with db.transaction() as s:
            row = api_keys.revoke(s, key_id, actor=None, by=operator(), now=clock.now())
    click.echo(f"Revoked API key {row.id} ({row.prefix}…) '{row.name}'.")


@api_keys_group.command()
@click.argument("key_id", type=int)
@click.option("--off", is_flag=True, help="Stop requiring signatures for this key.")
def signing(key_id: int, off: bool) -> None:
    """Give key KEY_ID a new signing secret (printed once), or none with --off.

    While rotating, the sender signs with both the old and the new secret
    (two space-separated signatures) until it has switched.
    """
    with app_context():
        with db.transaction() as s:
            secret = api_keys.set_signing(s, key_id, enabled=not off, actor=None)
    if secret:
        click.echo(f"Requests with key {key_id} must now be signed with this secret:")
        click.echo(secret)
    else:
        click.echo(f"Requests with key {key_id} no longer need a signature.")
