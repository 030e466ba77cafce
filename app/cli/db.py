"""`journeys db …`: schema migrations."""
from __future__ import annotations

import click

from app import migrate
from app.config import load_settings
from app.db import make_engine
from app.errors import ServiceUnavailable


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command()
def upgrade() -> None:
    """Apply every pending migration (safe to run again)."""
    engine = make_engine(load_settings())
    try:
        migrate.upgrade(engine)
        click.echo(f"Database schema at revision {migrate.current_revision(engine)} (head).")
    except Exception as exc:  # noqa: BLE001 - reported as one line by the CLI
        raise ServiceUnavailable(database_problem(engine.url.render_as_string(), exc)) from None
    finally:
        engine.dispose()


@db.command()
def current() -> None:
    """Show the schema revision of the database and the latest one."""
    engine = make_engine(load_settings())
    try:
        click.echo(f"database: {migrate.current_revision(engine)}  latest: {migrate.head_revision()}")
    finally:
        engine.dispose()


def database_problem(url: str, exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"cannot use the database at {url}: {first}. Check DATABASE_URL "
            "(e.g. postgresql+psycopg://user@host:5432/dbname) and that the server runs.")
