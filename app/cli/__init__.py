"""The `journeys` console script."""
from __future__ import annotations

import sys

import click

from app.errors import AppError


class JourneysGroup(click.Group):
    """Turns our own errors into one clear line and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except AppError as exc:
            click.echo(f"Error: {exc.detail}", err=True)
            sys.exit(1)


@click.group(cls=JourneysGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Journeys: a visual journey builder for e-commerce email marketing.

    Configure with environment variables: DATABASE_URL, REDIS_URL, SECRET_KEY,
    BASE_URL, SMTP_URL, MAIL_FROM, INSTANCE_PATH, JOURNEYS_ENV (docs/configuration.md).
    """


def _register() -> None:
    from app.cli.api_keys import api_keys_group
    from app.cli.contacts import contacts_group
    from app.cli.db import db
    from app.cli.serve import scheduler, up, web, worker
    from app.cli.simulate import simulate
    from app.cli.sources import sources_group
    from app.cli.status import retry_failed, status
    from app.cli.users import users
    from app.cli.webhooks import webhooks

    for command in (up, web, worker, scheduler, db, users, api_keys_group, webhooks, status, retry_failed,
                    simulate):
        main.add_command(command)
    main.add_command(sources_group)
    main.add_command(contacts_group)
    from app.cli.transfer import export, import_

    main.add_command(export)
    from app.cli.backup import backup, restore
    from app.cli.imports import import_group

    import_group.add_command(import_, name="journeys")  # `journeys import FILE...` still means this
    main.add_command(import_group)
    main.add_command(backup)
    main.add_command(restore)
    from app.cli.demo import demo_group

    main.add_command(demo_group)


_register()
