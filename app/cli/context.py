"""An app context for commands that touch the database."""
from __future__ import annotations

import getpass
from contextlib import contextmanager
from typing import Iterator

from flask import Flask

from app import create_app, migrate
from app.db import db
from app.errors import ServiceUnavailable


@contextmanager
def app_context(*, require_schema: bool = True) -> Iterator[Flask]:
    app = create_app()
    with app.app_context():
        if require_schema:
            ensure_schema_current()
        yield app


def ensure_schema_current() -> None:
    from app.cli.db import database_problem

    try:
        current = migrate.is_current(db.engine)
    except Exception as exc:  # noqa: BLE001 - reported as one line by the CLI
        raise ServiceUnavailable(database_problem(db.engine.url.render_as_string(), exc)) from None
    if not current:
        raise ServiceUnavailable("the database schema is not current: run `journeys db upgrade` first.")


def operator() -> str:
    """Who runs the command, for the record: cli:<OS user>."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return "cli"
