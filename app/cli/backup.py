"""`journeys backup` and `journeys restore`: the embedded SQLite mode's database in one file."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from app import backups, clock
from app.cli import progress
from app.config import load_settings


def _settings_or_exit():  # type: ignore[no-untyped-def]
    settings = load_settings()
    try:
        backups.database_path(settings)
    except backups.WrongBackend as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)
    return settings


@click.command()
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The file to write (default: instance/backups/journeys-<UTC time>.db).")
def backup(out: Path | None) -> None:
    """Copy the SQLite database, and the instance's generated secret key, into one file.

    Safe while Journeys runs: the copy is one consistent moment of the database. On
    PostgreSQL this explains pg_dump and exits with code 2.
    """
    settings = _settings_or_exit()
    with progress.bar(None, "Backing up", unit="pages") as bar:
        info = backups.create(settings, out, clock.now(), on_progress=lambda done, total: bar.set(done, total))
    click.echo(f"Backup written to {info.path} ({info.size:,} bytes, schema revision {info.revision}).")
    if info.secret_included:
        click.echo("It includes this instance's generated secret key: keep the file private.")
    else:
        click.echo("SECRET_KEY comes from the environment and is not in the backup: keep it with the backup. "
                   "Without it, the unsubscribe and tracking links in emails already sent stop working.")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(file: Path, yes: bool) -> None:
    """Replace the SQLite database with a backup (from `journeys backup`), migrated to this version.

    Refuses while Journeys runs on this instance. The database it replaces is kept beside it
    as <name>.before-restore-<time>. On PostgreSQL this explains pg_restore and exits with code 2.
    """
    settings = _settings_or_exit()
    revision, meta = backups.inspect(file)
    taken = meta.get("created_at", "unknown time (a plain copy)")
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("restore replaces the database: confirm with --yes when not at a terminal.")
        click.confirm(f"Replace {backups.database_path(settings)} with the backup of {taken} "
                      f"(schema revision {revision})?", abort=True)
    with progress.bar(None, "Restoring", unit="pages") as bar:
        done = backups.restore(settings, file, clock.now(), on_progress=lambda n, total: bar.set(n, total))
    click.echo(f"Restored {file} (taken {taken}) into {done.database}.")
    if done.previous:
        click.echo(f"The database it replaced is kept as {done.previous}.")
    if done.from_revision != done.to_revision:
        click.echo(f"Migrated from schema revision {done.from_revision} to {done.to_revision}.")
    click.echo(_SECRET_LINES[done.secret])


_SECRET_LINES = {
    "kept": "The secret key in use is the backup's: links in emails already sent keep working.",
    "restored": "The backup's secret key is restored to instance/secret_key (the previous one was set aside).",
    "saved": ("Warning: SECRET_KEY is set to another key than the backup's. Links in emails sent before the "
              "backup only work with the backup's key, written to instance/secret_key.from-backup: "
              "set SECRET_KEY to its content."),
    "differs": ("Warning: the backup was taken with another SECRET_KEY (from the environment, so not in "
                "the file): set SECRET_KEY to that key, or links in emails already sent stop working."),
    "none": "The file carries no secret key (a plain copy): keep the SECRET_KEY it was made with.",
}
