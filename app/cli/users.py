"""`journeys users …`: staff accounts."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from app.cli.context import app_context
from app.db import db
from app.errors import NotFound
from app.models import User, normalize_email
from app.services import users as user_service


@click.group()
def users() -> None:
    """Create and manage staff accounts."""


@users.command()
@click.option("--email", required=True, help="Sign-in email address.")
@click.option("--role", type=click.Choice(["admin", "marketer", "viewer"]), required=True)
@click.option("--name", default="", help="Display name.")
@click.option("--password", default=None,
              help="Initial password; prompted on a terminal, generated and printed otherwise.")
def create(email: str, role: str, name: str, password: str | None) -> None:
    """Create a user who can sign in with EMAIL."""
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password, generated = user_service.generate_password(), True
    with app_context():
        with db.transaction() as s:
            user = user_service.create_user(s, email=email, role=role, password=password, name=name)
    click.echo(f"Created {user.role.value} {user.email}.")
    if generated:
        click.echo(f"Password: {password}")


@users.command("set-password")
@click.option("--email", required=True)
@click.option("--password", default=None, help="New password; generated and printed when omitted.")
def set_password(email: str, password: str | None) -> None:
    """Set a new password (ends every session of that user)."""
    new = password or user_service.generate_password()
    with app_context():
        with db.transaction() as s:
            user = s.scalar(select(User).where(User.email == normalize_email(email)))
            if user is None:
                raise NotFound(f"no user with the email {email}.")
            user_service.set_password(s, user, new, actor=None)
    click.echo(f"Password of {normalize_email(email)} changed.")
    if password is None:
        click.echo(f"Password: {new}")


@users.command("list")
def list_() -> None:
    """List users with their roles."""
    with app_context():
        for u in user_service.list_users(db.session):
            click.echo(f"{u.email}\t{u.role.value}\t{'active' if u.active else 'deactivated'}")
