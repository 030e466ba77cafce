"""`journeys import contacts FILE.csv`, beside `journeys import FILE...` (journey files).

`import` is a group whose default is the journey import, so `journeys import a.json b.json`
keeps working and `journeys import journeys a.json` says the same thing.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import NoReturn

import click

from app import clock, instance_lock
from app.cli import progress
from app.cli.context import app_context, operator
from app.db import db
from app.services import contact_import
from app.services.contact_csv import Options, Problem, Reader, parse_pairs
from app.services.contact_columns import BUILT_INS

#: Problems printed before "… and N more".
SHOWN = 100


class ImportGroup(click.Group):
    """Anything but a subcommand's name is a journey file: `journeys import FILE...`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["journeys", *args]
        return super().parse_args(ctx, args)


@click.group("import", cls=ImportGroup)
def import_group() -> None:
    """Import journeys (JSON files from `journeys export`) or contacts (a CSV file).

    `journeys import FILE...` is short for `journeys import journeys FILE...`.
    """


@import_group.command("contacts")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--consent", type=click.Choice(["subscribed", "unsubscribed", "none"]), required=True,
              help="Marketing consent for rows whose file says nothing (a consent column wins); "
                   "none leaves consent as it is.")
@click.option("--consent-source", default="", metavar="TEXT",
              help="Where and how these people gave (or withdrew) consent, e.g. 'newsletter form on shop.example, "
                   "2019-2026'; kept on every consent record. Required unless --consent none.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN,...",
              help="Which column feeds which field: email, external_id, timezone, locale, tags, consent, or an "
                   "attribute name (first_name=Vorname). Obvious headers are recognised without it.")
@click.option("--ignore", "ignores", multiple=True, metavar="COLUMN,...", help="Columns not to import.")
@click.option("--only-mapped", is_flag=True,
              help="Import only mapped or recognised columns (others otherwise become attributes).")
@click.option("--types", "typings", multiple=True, metavar="ATTRIBUTE=TYPE,...",
              help="Attribute types: number, boolean, date (default: text, as written).")
@click.option("--tag", "tags", multiple=True, help="A tag for every imported contact (repeatable).")
@click.option("--dry-run", is_flag=True, help="Check every row and say what would happen; write nothing.")
@click.option("--skip-bad", is_flag=True, help="Import the good rows even when some are bad (default: none).")
@click.option("--delimiter", default=None, help="The field separator (default: detected: , ; tab or |).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="The file's text encoding.")
@click.option("--bad-rows", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write every problem to this CSV file (line, column, value, reason).")
def contacts(file: Path, consent: str, consent_source: str, maps: tuple[str, ...], ignores: tuple[str, ...],
             only_mapped: bool, typings: tuple[str, ...], tags: tuple[str, ...], dry_run: bool, skip_bad: bool,
             delimiter: str | None, encoding: str, bad_rows: Path | None) -> None:
    """Import contacts from a CSV file: checked first, all or nothing (or --skip-bad), in batches.

    Contacts are matched by external id, then email: known ones are updated (attributes
    merged, tags added), new ones created. Suppressed addresses are never subscribed again.
    Running the same import twice changes nothing more.
    """
    options = _options(maps, ignores, only_mapped, typings, tags, delimiter, encoding)
    reader = Reader(file, options)
    if (consent != "none" or "consent" in reader.plan.targets.values()) and not consent_source.strip():
        raise click.UsageError("--consent-source is required: say where and how these people gave their "
                               "consent (kept on every consent record, as GDPR asks).")
    _describe(reader)
    terms = contact_import.Consent(consent, consent_source.strip()[:500], file.name)
    with app_context() as app:
        instance_lock.hold_shared(app.config["SETTINGS"])  # a restore waits for the import to end
        if dry_run:
            summary = _run(reader, "Checking", lambda rows, tick: contact_import.check(db.session, rows, terms,
                                                                                       on_batch=tick))
            db.session.rollback()
            _problems(summary.problems, bad_rows)
            _report(summary, dry_run=True)
            if summary.bad and not skip_bad:
                _fail(f"{summary.bad:,} bad row(s): fix them, or import the rest with --skip-bad.")
            return
        problems = _check_only(reader)
        if problems and not skip_bad:
            _problems(problems, bad_rows)
            _fail("Nothing was imported: fix these rows, or import the others with --skip-bad.")
        _problems(problems, bad_rows)
        summary = _run(reader, "Importing", lambda rows, tick: contact_import.apply(
            db.session, rows, terms, now=clock.now(), actor=operator(), on_batch=tick))
    _report(summary, dry_run=False)


def _options(maps: tuple[str, ...], ignores: tuple[str, ...], only_mapped: bool, typings: tuple[str, ...],
             tags: tuple[str, ...], delimiter: str | None, encoding: str) -> Options:
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise click.BadParameter(f"{encoding!r} is not an encoding Python knows (utf-8, cp1252, latin-1 …).",
                                 param_hint="--encoding") from None
    if delimiter is not None and len(delimiter.replace("\\t", "\t")) != 1:
        raise click.BadParameter("give one character, e.g. ';' or '\\t'.", param_hint="--delimiter")
    long = [t for t in tags if not t.strip() or len(t) > 100]
    if long:
        raise click.BadParameter(f"{long[0]!r}: a tag has 1 to 100 characters.", param_hint="--tag")
    mapping = parse_pairs(maps, "--map")
    bad_targets = [t for t in mapping if t not in BUILT_INS and not t.replace("_", "").isalnum()]
    if bad_targets:
        raise click.BadParameter(f"{bad_targets[0]!r} is not a field or an attribute name (letters, digits, _).",
                                 param_hint="--map")
    return Options(mapping=mapping, ignore=frozenset(c.strip() for v in ignores for c in v.split(",") if c.strip()),
                   only_mapped=only_mapped, types=parse_pairs(typings, "--types"),
                   tags=tuple(t.strip() for t in tags),
                   delimiter=delimiter.replace("\\t", "\t") if delimiter else None, encoding=encoding)


def _describe(reader: Reader) -> None:
    shown = ", ".join(f"{column!r} → {target}{'' if target in BUILT_INS else ' (attribute)'}"
                      for column, target in reader.plan.describe())
    click.echo(f"Columns: {shown}")
    if reader.plan.ignored:
        click.echo(f"Ignored: {', '.join(map(repr, reader.plan.ignored))}")


def _run(reader: Reader, label: str, work):  # type: ignore[no-untyped-def]
    with progress.bar(reader.size, label, unit="bytes") as bar:
        return work(reader.rows(), lambda: bar.set(reader.bytes_read))


def _check_only(reader: Reader) -> list[Problem]:
    problems: list[Problem] = []
    with progress.bar(reader.size, "Checking", unit="bytes") as bar:
        for n, row in enumerate(reader.rows()):
            problems.extend(row.problems)
            if n % 1000 == 0:
                bar.set(reader.bytes_read)
    return problems


def _problems(problems: list[Problem], bad_rows: Path | None) -> None:
    for problem in problems[:SHOWN]:
        click.echo(f"  {problem}", err=True)
    if len(problems) > SHOWN:
        more = "" if bad_rows else " (write them all with --bad-rows FILE)"
        click.echo(f"  … and {len(problems) - SHOWN:,} more problem(s){more}", err=True)
    if bad_rows and problems:
        with open(bad_rows, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["line", "column", "value", "reason"])
            out.writerows([p.line, p.column, p.value, p.reason] for p in problems)
        click.echo(f"Every problem is in {bad_rows}.", err=True)


def _report(summary: contact_import.Summary, *, dry_run: bool) -> None:
    good = summary.rows - summary.bad
    would = "would be " if dry_run else ""
    head = "Dry run, nothing written: " if dry_run else "Imported: "
    click.echo(f"{head}{summary.rows:,} row(s), {good:,} good, {summary.bad:,} bad"
               f"{' (skipped)' if summary.bad and not dry_run else ''}.")
    click.echo(f"Contacts {would}created: {summary.created:,}; {would}updated: {summary.updated:,}.")
    click.echo(f"Consent {would}recorded: subscribed {summary.subscribed:,}, unsubscribed {summary.unsubscribed:,}, "
               f"asked to confirm by email (double opt-in) {summary.confirmation_asked:,}, "
               f"unchanged {summary.consent_unchanged:,}.")
    if summary.suppressed:
        click.echo(f"Suppressed addresses {'that would stay' if dry_run else 'left'} unsubscribed: "
                   f"{summary.suppressed:,} (bounced, complained, blocked or erased; see Settings → Suppressions).")


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)
