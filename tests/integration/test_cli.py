"""The `journeys` console script: every command has --help; mistakes are one clear line."""
from __future__ import annotations

import pytest

from tests.conftest import run_cli, environ_for

COMMANDS = [["up"], ["web"], ["worker"], ["scheduler"], ["db"], ["db", "upgrade"], ["status"], ["retry-failed"],
            ["users"], ["users", "create"], ["users", "set-password"],
            ["api-keys"], ["api-keys", "create"], ["api-keys", "list"], ["api-keys", "revoke"], ["api-keys", "signing"]]


def test_every_command_has_help(tmp_path):
    from click.testing import CliRunner

    from app.cli import main

    runner = CliRunner()
    for command in COMMANDS:
        result = runner.invoke(main, [*command, "--help"], prog_name="journeys")
        assert result.exit_code == 0 and "Usage: journeys" in result.output, command
    up_help = runner.invoke(main, ["up", "--help"]).output
    assert "--host" in up_help and "127.0.0.1" in up_help and "--port" in up_help and "5000" in up_help
    create_help = runner.invoke(main, ["users", "create", "--help"]).output
    assert "admin|marketer|viewer" in create_help


def test_db_upgrade_and_users_create_on_a_fresh_instance(tmp_path, redis_url):
    env = environ_for(tmp_path, f"sqlite:///{tmp_path}/j.db", redis_url)
    first = run_cli("db", "upgrade", env=env)
    assert first.returncode == 0 and "(head)" in first.stdout
    made = run_cli("users", "create", "--email", "Ops@Example.com", "--role", "admin", env=env)
    assert made.returncode == 0, made.stderr
    assert "Created admin ops@example.com." in made.stdout and "Password: " in made.stdout
    again = run_cli("users", "create", "--email", "ops@example.com", "--role", "viewer", env=env)
    assert again.returncode == 1
    assert again.stderr.strip() == "Error: A user with the email ops@example.com already exists."
    listed = run_cli("users", "list", env=env)
    assert "ops@example.com\tadmin\tactive" in listed.stdout


def test_users_create_refuses_a_bad_role_and_a_bad_email(tmp_path, redis_url):
    env = environ_for(tmp_path, f"sqlite:///{tmp_path}/j.db", redis_url)
    run_cli("db", "upgrade", env=env)
    role = run_cli("users", "create", "--email", "a@example.com", "--role", "owner", env=env)
    assert role.returncode == 2 and "'owner' is not one of" in role.stderr
    email = run_cli("users", "create", "--email", "nope", "--role", "viewer", env=env)
    assert email.returncode == 1 and "is not an email address" in email.stderr


def test_commands_before_migration_say_what_to_run(tmp_path, redis_url):
    env = environ_for(tmp_path, f"sqlite:///{tmp_path}/j.db", redis_url)
    result = run_cli("users", "list", env=env)
    assert result.returncode == 1
    assert "run `journeys db upgrade` first" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url, message", [
    ("postgresql+psycopg://nobody@127.0.0.1:1/nothing", "cannot use the database at"),
    ("mysql://x@y/z", "supports PostgreSQL"),
])
def test_a_broken_database_url_is_one_clear_line(tmp_path, redis_url, url, message):
    result = run_cli("db", "upgrade", env=environ_for(tmp_path, url, redis_url))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_redis_is_one_clear_line(tmp_path):
    env = environ_for(tmp_path, f"sqlite:///{tmp_path}/j.db", "redis://127.0.0.1:1/0")
    for command in ("worker", "scheduler"):
        result = run_cli(command, env=env)
        assert result.returncode == 1, command
        assert "REDIS_URL=redis://127.0.0.1:1/0 is unreachable" in result.stderr
        assert "Traceback" not in result.stderr


def test_production_without_secret_key_is_one_clear_line(tmp_path, redis_url):
    env = environ_for(tmp_path, f"sqlite:///{tmp_path}/j.db", redis_url, JOURNEYS_ENV="production")
    env["SECRET_KEY"] = ""
    result = run_cli("db", "upgrade", env=env)
    assert result.returncode == 1 and "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_shows_queues_due_enrollments_and_the_scheduler(app, settings, database_url, redis_url):
    from datetime import timedelta

    from app import queues
    from app.db import db
    from app.scheduler import Scheduler
    from tests.factories import T0, contact, published_journey, waiting

    with app.app_context():
        with db.transaction() as s:
            version = published_journey(s)
            waiting(s, version, contact(s, "a@example.com"), T0 - timedelta(days=400))
        queues.enqueue(queues.DELIVERY, queues.ping)
    Scheduler(app.extensions["redis"], []).tick()
    result = run_cli("status", env=environ_for(settings.instance_path, database_url, redis_url))
    assert result.returncode == 0, result.stderr
    assert "due but unclaimed enrollments: 1" in result.stdout
    assert "queue delivery  waiting      1" in result.stdout
    assert "last scheduler tick: " in result.stdout and "ago by" in result.stdout
    assert "events waiting to be processed: 0" in result.stdout
    assert "messages failed:" in result.stdout and "messages ambiguous:" in result.stdout
