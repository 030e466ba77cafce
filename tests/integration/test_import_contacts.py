"""`journeys import contacts FILE.csv`: mapping, checks with reasons, dry run, all or nothing, consent."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app import clock, create_app
from app.cli import main
from app.db import db
from app.models import AuditEntry, ConsentRecord, Contact, Message, SubscriptionStatus
from app.services import suppressions, workspace
from tests.conftest import environ_for
from tests.factories import T0, contact

GERMAN = ("\ufeffE-Mail;Vorname;Nachname;Land;Zeitzone;Kundennummer;Tags;Umsatz\n"
          "anna@example.com;Anna;Nowak;PL;Europe/Warsaw;c-1;vip, newsletter;12,50\n"
          "Bernd@Example.com;Bernd;Braun;DE;Europe/Berlin;c-2;;3\n")
SOURCE = "newsletter form on shop.example, 2019-2026"


@pytest.fixture
def cli(app, settings, database_url, redis_url, monkeypatch):  # type: ignore[no-untyped-def]
    env = environ_for(settings.instance_path, database_url, redis_url)
    command_app = create_app(settings)  # one app (one connection pool) for every command of the test
    monkeypatch.setattr("app.cli.context.create_app", lambda: command_app)

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner(env=env).invoke(main, ["import", "contacts", *args], prog_name="journeys")

    yield run
    command_app.extensions["db_engine"].dispose()


def write(tmp_path: Path, text: str, name: str = "contacts.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return str(path)


def contacts(app) -> dict[str, Contact]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {c.email: c for c in db.session.scalars(select(Contact))}


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_obvious_headers_are_recognised_and_every_row_lands_with_its_consent(app, cli, tmp_path):
    result = cli(write(tmp_path, GERMAN), "--consent", "subscribed", "--consent-source", SOURCE,
                 "--tag", "imported-2026", "--types", "umsatz=number")
    assert result.exit_code == 0, result.output
    assert "'E-Mail' → email" in result.stdout and "'Vorname' → first_name (attribute)" in result.stdout
    assert "'Kundennummer' → external_id" in result.stdout and "'Zeitzone' → timezone" in result.stdout
    assert "Contacts created: 2; updated: 0." in result.stdout
    assert "subscribed 2," in result.stdout
    rows = contacts(app)
    anna, bernd = rows["anna@example.com"], rows["bernd@example.com"]
    assert anna.attributes == {"first_name": "Anna", "last_name": "Nowak", "country": "PL", "umsatz": 12.5}
    assert anna.timezone == "Europe/Warsaw" and anna.external_id == "c-1"
    assert anna.tags == ["imported-2026", "newsletter", "vip"] and bernd.tags == ["imported-2026"]
    assert anna.subscription_status == SubscriptionStatus.subscribed
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord).where(ConsentRecord.contact_id == anna.id)).one()
        assert (record.source, record.status) == ("import", "subscribed")
        assert record.details == {"consent_source": SOURCE, "file": "contacts.csv", "line": 2}
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contacts.import")).one()
        assert audit.actor.startswith("cli") and audit.details["created"] == 2
        assert audit.details["consent_source"] == SOURCE


def test_dry_run_reports_every_bad_row_with_line_column_and_reason_and_writes_nothing(app, cli, tmp_path):
    text = ("email,first_name,timezone,locale,vip\n"
            "ok@example.com,Ok,Europe/Warsaw,pl-PL,yes\n"
            "bob@,Bob,,,no\n"
            "carl@example.com,Carl,Europe/Berlinn,,\n"
            "dora@example.com,Dora,,polish!,maybe\n"
            "ok@example.com,Again,,,\n"
            "eve@example.com,Eve\n"
            ",Nobody,,,\n")
    result = cli(write(tmp_path, text), "--consent", "subscribed", "--consent-source", SOURCE, "--dry-run",
                 "--types", "vip=boolean")
    assert result.exit_code == 1
    errors = result.stderr
    assert "line 3, column email: 'bob@' is not an email address" in errors
    assert "line 4, column timezone: 'Europe/Berlinn' is not a known time zone" in errors
    assert "line 5, column locale: 'polish!' is not a language tag" in errors
    assert "line 5, column vip: 'maybe' is not yes/no" in errors
    assert "line 6, column email: repeats the address of line 2" in errors
    assert "line 7: has 2 fields; the header has 5" in errors
    assert "line 8, column email: the email address is missing" in errors
    assert "Dry run, nothing written: 7 row(s), 1 good, 6 bad." in result.stdout
    assert "Contacts would be created: 1" in result.stdout
    assert count(app, Contact) == 0 and count(app, ConsentRecord) == 0 and count(app, AuditEntry) == 0

    clean = cli(write(tmp_path, "email\nok@example.com\n", "clean.csv"), "--consent", "subscribed",
                "--consent-source", SOURCE, "--dry-run")
    assert clean.exit_code == 0 and "1 good, 0 bad" in clean.stdout
    assert count(app, Contact) == 0


def test_one_bad_row_imports_nothing_unless_skip_bad_and_bad_rows_lists_them_all(app, cli, tmp_path):
    text = "email,first_name\na@example.com,A\nnot-an-address,B\nc@example.com,C\n"
    path = write(tmp_path, text)
    refused = cli(path, "--consent", "none")
    assert refused.exit_code == 1
    assert "line 3, column email: 'not-an-address' is not an email address" in refused.stderr
    assert "Nothing was imported" in refused.stderr
    assert count(app, Contact) == 0

    report = tmp_path / "bad.csv"
    done = cli(path, "--consent", "none", "--skip-bad", "--bad-rows", str(report))
    assert done.exit_code == 0, done.output
    assert "3 row(s), 2 good, 1 bad (skipped)" in done.stdout
    assert set(contacts(app)) == {"a@example.com", "c@example.com"}
    assert count(app, ConsentRecord) == 0  # --consent none: consent left as it was
    with open(report, newline="") as fh:
        header, *problems = list(csv.reader(fh))
    assert header == ["line", "column", "value", "reason"]
    assert len(problems) == 1 and problems[0][:3] == ["3", "email", "not-an-address"]
    assert "is not an email address" in problems[0][3]


def test_mapping_ignoring_and_types(app, cli, tmp_path):
    text = ("Adres,Imię,Notatka,Wydano,Od,Zgoda\n"
            "x@example.com,Xenia,call her,\"1 234,50\",2024-05-01,tak\n")
    wrong = cli(write(tmp_path, text), "--consent", "none", "--map", "email=Address")
    assert wrong.exit_code == 1 and "--map email=Address: there is no column 'Address'" in wrong.stderr
    assert "The columns are: 'Adres', 'Imię'" in wrong.stderr
    missing = cli(write(tmp_path, text), "--consent", "none")
    assert missing.exit_code == 1 and "no column holds the email address" in missing.stderr

    done = cli(write(tmp_path, text), "--consent", "none", "--map", "email=Adres,spent=Wydano,since=Od",
               "--ignore", "Notatka,Zgoda", "--types", "spent=number,since=date")
    assert done.exit_code == 0, done.output
    assert "Ignored: 'Notatka', 'Zgoda'" in done.stdout
    assert contacts(app)["x@example.com"].attributes == {"first_name": "Xenia", "spent": 1234.5,
                                                          "since": "2024-05-01"}

    only = cli(write(tmp_path, "email,shoe size\ny@example.com,42\n", "only.csv"), "--consent", "none",
               "--only-mapped")
    assert only.exit_code == 0 and contacts(app)["y@example.com"].attributes == {}


def test_a_consent_column_decides_per_row_and_unsubscribes_too(app, cli, tmp_path):
    with app.app_context():
        with db.transaction() as s:
            contact(s, "leaving@example.com", status=SubscriptionStatus.subscribed)
    text = "email,accepts marketing\nnew@example.com,yes\nleaving@example.com,no\nquiet@example.com,\n"
    no_source = cli(write(tmp_path, text), "--consent", "none")
    assert no_source.exit_code == 2 and "--consent-source is required" in no_source.output
    done = cli(write(tmp_path, text), "--consent", "none", "--consent-source", "checkout box")
    assert done.exit_code == 0, done.output
    rows = contacts(app)
    assert rows["new@example.com"].subscription_status == SubscriptionStatus.subscribed
    assert rows["leaving@example.com"].subscription_status == SubscriptionStatus.unsubscribed
    assert rows["quiet@example.com"].subscription_status == SubscriptionStatus.never_subscribed
    assert "subscribed 1, unsubscribed 1" in done.stdout


def test_suppressed_addresses_are_never_subscribed_and_a_rerun_changes_nothing(app, cli, tmp_path):
    with app.app_context():
        with db.transaction() as s:
            suppressions.suppress(s, "bounced@example.com", reason="hard_bounce", source="test", now=T0)
            contact(s, "known@example.com", status=SubscriptionStatus.never_subscribed,
                    attributes={"first_name": "Known", "city": "Kraków"}, tags=["old"])
    text = "email,first_name,tags\nbounced@example.com,B,\nknown@example.com,Kim,new\n"
    path = write(tmp_path, text)
    dry = cli(path, "--consent", "subscribed", "--consent-source", SOURCE, "--dry-run")
    assert "Suppressed addresses that would stay unsubscribed: 1" in dry.stdout
    assert "would be created: 1; would be updated: 1" in dry.stdout
    done = cli(path, "--consent", "subscribed", "--consent-source", SOURCE)
    assert done.exit_code == 0, done.output
    assert "Suppressed addresses left unsubscribed: 1" in done.stdout
    rows = contacts(app)
    assert rows["bounced@example.com"].subscription_status == SubscriptionStatus.never_subscribed
    assert rows["known@example.com"].subscription_status == SubscriptionStatus.subscribed
    assert rows["known@example.com"].attributes == {"first_name": "Kim", "city": "Kraków"}  # merged
    assert rows["known@example.com"].tags == ["new", "old"]
    records = count(app, ConsentRecord)
    again = cli(path, "--consent", "subscribed", "--consent-source", SOURCE)
    assert again.exit_code == 0 and "unchanged 1" in again.stdout
    assert count(app, ConsentRecord) == records and len(contacts(app)) == 2


def test_double_opt_in_for_imports_asks_by_email_first(app, cli, tmp_path):
    with app.app_context():
        with db.transaction() as s:
            workspace.update(s, {"double_opt_in_sources": {"import": True}}, actor="test", now=clock.now())
    done = cli(write(tmp_path, "email\nnew@example.com\n"), "--consent", "subscribed", "--consent-source", SOURCE)
    assert done.exit_code == 0, done.output
    assert "asked to confirm by email (double opt-in) 1" in done.stdout
    assert contacts(app)["new@example.com"].subscription_status == SubscriptionStatus.unconfirmed
    assert count(app, Message) == 1  # the confirmation email, queued


@pytest.mark.parametrize("text, args, message", [
    ("", (), "is empty"),
    ("email,email\na@example.com,b@example.com\n", (), "the header names 'email' more than once"),
    ("Email,E-mail\na@example.com,b@example.com\n", (), "both look like email"),
    ("email,Shoe Size,shoe-size\na@example.com,1,2\n", (), "would all become 'shoe_size'"),
    ("email\na@example.com\n", ("--types", "x=colour"), "the types are text, number, boolean, date"),
    ("email\na@example.com\n", ("--map", "email"), "write it as field=Column"),
    ("email\na@example.com\n", ("--ignore", "nope"), "--ignore nope: no such column"),
])
def test_bad_files_and_options_are_one_clear_error_and_change_nothing(app, cli, tmp_path, text, args, message):
    result = cli(write(tmp_path, text), "--consent", "none", *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert count(app, Contact) == 0


def test_a_file_in_another_encoding_says_so_and_imports_with_encoding(app, cli, tmp_path):
    path = write(tmp_path, "email;first_name\nzoe@example.com;Zoë\n", encoding="cp1252")
    wrong = cli(path, "--consent", "none")
    assert wrong.exit_code == 1 and "--encoding" in wrong.stderr
    assert count(app, Contact) == 0
    done = cli(path, "--consent", "none", "--encoding", "cp1252")
    assert done.exit_code == 0, done.output
    assert contacts(app)["zoe@example.com"].attributes == {"first_name": "Zoë"}
    assert cli(path, "--consent", "none", "--encoding", "klingon").exit_code == 2
    assert cli(str(tmp_path / "missing.csv"), "--consent", "none").exit_code == 1


def test_many_rows_stream_in_batches(app, cli, tmp_path):
    n = 1_250  # three batches of 500
    lines = ["email,first_name,n"] + [f"p{i}@example.com,P{i},{i}" for i in range(n)]
    done = cli(write(tmp_path, "\n".join(lines) + "\n"), "--consent", "subscribed", "--consent-source", SOURCE,
               "--types", "n=number")
    assert done.exit_code == 0, done.output
    assert f"Contacts created: {n:,}" in done.stdout
    assert count(app, Contact) == n and count(app, ConsentRecord) == n
    assert contacts(app)["p1249@example.com"].attributes == {"first_name": "P1249", "n": 1249}
