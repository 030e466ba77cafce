"""`journeys contacts …`: a contact's rights from the command line (erase, export)."""
from __future__ import annotations

import json
import sys

import click
from sqlalchemy import select

from app import clock
from app.cli.context import app_context, operator
from app.db import db
from app.errors import NotFound
from app.models import Contact, normalize_email
from app.services import erasure, export


@click.group("contacts")
def contacts_group() -> None:
    """A contact's data: erase (GDPR Art. 17) and export (Art. 20)."""


def _find(s, email: str | None, contact_id: int | None) -> Contact:  # type: ignore[no-untyped-def]
    if (email is None) == (contact_id is None):
        raise click.UsageError("Name the contact by EMAIL or by --id, not both.")
    if contact_id is not None:
        contact = s.get(Contact, contact_id)
    else:
        contact = s.scalar(select(Contact).where(Contact.email == normalize_email(email or "")))
    if contact is None:
        raise NotFound(f"no contact {email or f'with id {contact_id}'}.")
    return contact


@contacts_group.command("erase")
@click.argument("email", required=False)
@click.option("--id", "contact_id", type=int, help="The contact's id instead of its email.")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(email: str | None, contact_id: int | None, reason: str, yes: bool) -> None:
    """Erase a contact's personal data everywhere; its address stays suppressed (as a hash)."""
    with app_context():
        with db.transaction() as s:
            contact = _find(s, email, contact_id)
            if not yes and not click.confirm(f"Erase contact {contact.id} ({contact.email})? This cannot be undone"):
                raise click.Abort()
            rows = erasure.erase(s, contact, actor=operator(), reason=reason, now=clock.now())
    changed = ", ".join(f"{name} {count}" for name, count in rows.items() if count)
    click.echo(f"Erased contact {contact.id} (rows changed: {changed}).")


@contacts_group.command("export")
@click.argument("email", required=False)
@click.option("--id", "contact_id", type=int, help="The contact's id instead of its email.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (default: standard output).")
def export_(email: str | None, contact_id: int | None, output: str | None) -> None:
    """Everything stored about a contact, as one JSON document."""
    with app_context():
        with db.transaction() as s:
            doc = export.export(s, _find(s, email, contact_id), actor=operator(), now=clock.now())
    text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        click.echo(f"Wrote {output}.", err=True)
    else:
        sys.stdout.write(text + "\n")
