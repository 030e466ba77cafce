"""`journeys backup` / `journeys restore` for the embedded SQLite mode; PostgreSQL is told to use its tools."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import embedded_redis, migrate
from app.cli import main
from app.config import load_settings
from app.db import make_engine
from tests.conftest import ROOT, environ_for, run_cli

pytestmark = pytest.mark.slow


class Instance:
    """An instance folder of its own with a SQLite database (the test Redis for the commands that need one)."""

    def __init__(self, folder: Path, redis_url: str | None, revision: str = "head", **extra: str) -> None:
        self.folder = folder
        self.db = folder / "journeys.db"
        self.env = {"INSTANCE_PATH": str(folder), "JOURNEYS_ENV": "test", **extra}
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        settings = load_settings(self.env)
        engine = make_engine(settings)
        migrate.upgrade(engine, revision)
        engine.dispose()

    def cli(self, *args: str, **extra: str):  # type: ignore[no-untyped-def]
        return CliRunner(env={"DATABASE_URL": None, "REDIS_URL": None, "SECRET_KEY": None, **self.env, **extra}) \
            .invoke(main, list(args), prog_name="journeys")

    def sql(self, statement: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            rows = conn.execute(statement, params).fetchall()
        conn.close()
        return rows

    def add_contact(self, email: str) -> None:
        self.sql("INSERT INTO contacts (email, attributes, tags, subscription_status, created_at, updated_at, "
                 "orders_count, total_spent) VALUES (?, '{}', '[]', 'subscribed', '2026-12-01 09:00:00', "
                 "'2026-12-01 09:00:00', 0, 0)", email)

    def emails(self) -> list[str]:
        return [r[0] for r in self.sql("SELECT email FROM contacts ORDER BY email")]

    def secret(self) -> str:
        return (self.folder / "secret_key").read_text().strip()


def _held_within(lock: Path, seconds: float) -> bool:
    """Whether some process holds `lock` (a shared flock) within `seconds`."""
    import fcntl

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if lock.exists():
            with open(lock) as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(fh, fcntl.LOCK_UN)
                except BlockingIOError:
                    return True
        time.sleep(0.2)
    return False


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backup_then_restore_brings_back_the_data_and_the_generated_key(tmp_path, redis_url):
    first = Instance(tmp_path / "a", redis_url)
    first.add_contact("kept@example.com")
    made = first.cli("backup", "--out", str(tmp_path / "b.db"))
    assert made.exit_code == 0, made.output
    assert f"Backup written to {tmp_path / 'b.db'}" in made.stdout
    assert "includes this instance's generated secret key" in made.stdout
    assert oct((tmp_path / "b.db").stat().st_mode & 0o777) == "0o600"
    first.add_contact("later@example.com")

    restored = first.cli("restore", "--yes", str(tmp_path / "b.db"))
    assert restored.exit_code == 0, restored.output
    assert first.emails() == ["kept@example.com"]
    aside = [p for p in first.folder.iterdir() if p.name.startswith("journeys.db.before-restore-")]
    assert len(aside) == 1 and f"kept as {aside[0]}" in restored.stdout
    with sqlite3.connect(aside[0]) as old:
        assert [r[0] for r in old.execute("SELECT email FROM contacts ORDER BY email")] == \
            ["kept@example.com", "later@example.com"]
    old.close()
    assert "journeys_backup" not in {r[0] for r in first.sql("SELECT name FROM sqlite_master")}
    assert "secret key in use is the backup's" in restored.stdout

    elsewhere = Instance(tmp_path / "c", redis_url)  # a new machine: another generated key
    assert elsewhere.secret() != first.secret()
    moved = elsewhere.cli("restore", "--yes", str(tmp_path / "b.db"))
    assert moved.exit_code == 0, moved.output
    assert "backup's secret key is restored" in moved.stdout
    assert elsewhere.secret() == first.secret() and elsewhere.emails() == ["kept@example.com"]


def test_a_backup_taken_while_writes_go_on_is_one_consistent_moment(tmp_path, redis_url):
    inst = Instance(tmp_path / "a", redis_url)
    for i in range(2000):  # some pages to copy, so the copy takes several steps
        inst.add_contact(f"seed{i}@example.com")
    # A writer in another process: every transaction adds a contact and its audit entry together.
    writer = subprocess.Popen([sys.executable, "-c", f"""
import sqlite3, time
conn = sqlite3.connect({str(inst.db)!r}, timeout=30, isolation_level=None)
conn.execute('PRAGMA journal_mode=WAL')
i = 0
while True:
    conn.execute('BEGIN IMMEDIATE')
    conn.execute("INSERT INTO contacts (email, attributes, tags, subscription_status, created_at, updated_at, "
                 "orders_count, total_spent) VALUES (?, '{{}}', '[]', 'subscribed', '2026-12-01', '2026-12-01', 0, 0)",
                 (f'w{{i}}@example.com',))
    conn.execute("INSERT INTO audit_log (actor, action, target, details, at) VALUES ('t', 'w', '', '{{}}', '2026-12-01')")
    conn.execute('COMMIT')
    i += 1
"""])
    try:
        time.sleep(1.0)
        made = inst.cli("backup", "--out", str(tmp_path / "b.db"))
    finally:
        writer.kill()
        writer.wait()
    assert made.exit_code == 0, made.output
    with sqlite3.connect(tmp_path / "b.db") as copy:
        contacts = copy.execute("SELECT count(*) FROM contacts WHERE email LIKE 'w%'").fetchone()[0]
        audits = copy.execute("SELECT count(*) FROM audit_log WHERE action = 'w'").fetchone()[0]
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no -wal beside it
    copy.close()
    assert contacts > 0 and contacts == audits  # never half of a transaction


def test_an_older_backup_is_migrated_forward_on_restore(tmp_path, redis_url):
    old = Instance(tmp_path / "old", redis_url, revision="0005")
    made = old.cli("backup", "--out", str(tmp_path / "old.db"))
    assert made.exit_code == 0 and "schema revision 0005" in made.stdout
    current = Instance(tmp_path / "new", redis_url)
    done = current.cli("restore", "--yes", str(tmp_path / "old.db"))
    assert done.exit_code == 0, done.output
    assert f"Migrated from schema revision 0005 to {migrate.head_revision()}" in done.stdout
    assert current.sql("SELECT version_num FROM alembic_version") == [(migrate.head_revision(),)]


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("email\nnot a database\n"), "is not a SQLite database"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE notes (x)").connection.commit(), "not a Journeys one"),
    (lambda p: None, "no such file"),
])
def test_restore_refuses_what_is_not_a_journeys_backup_and_changes_nothing(tmp_path, redis_url, make, message):
    inst = Instance(tmp_path / "a", redis_url)
    inst.add_contact("live@example.com")
    before = digest(inst.db)
    bad = tmp_path / "bad.db"
    make(bad)
    result = inst.cli("restore", "--yes", str(bad))
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert digest(inst.db) == before and inst.emails() == ["live@example.com"]
    assert not [p for p in inst.folder.iterdir() if "restor" in p.name]


def test_restore_refuses_a_newer_revision_and_a_damaged_file(tmp_path, redis_url):
    source = Instance(tmp_path / "src", redis_url)
    for i in range(500):
        source.add_contact(f"c{i}@example.com")
    assert source.cli("backup", "--out", str(tmp_path / "b.db")).exit_code == 0
    newer = tmp_path / "newer.db"
    newer.write_bytes((tmp_path / "b.db").read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    damaged = tmp_path / "damaged.db"
    data = bytearray((tmp_path / "b.db").read_bytes())
    data[len(data) // 2: len(data) // 2 + 8192] = b"\xff" * 8192
    damaged.write_bytes(bytes(data))

    target = Instance(tmp_path / "t", redis_url)
    before = digest(target.db)
    future = target.cli("restore", "--yes", str(newer))
    assert future.exit_code == 1 and "'9999', which this version of Journeys does not know" in future.stderr
    broken = target.cli("restore", "--yes", str(damaged))
    assert broken.exit_code == 1 and ("damaged" in broken.stderr or "cannot be read" in broken.stderr), broken.output
    assert digest(target.db) == before


def test_restore_refuses_while_the_instance_runs(tmp_path, redis_url):
    inst = Instance(tmp_path / "a", redis_url)
    assert inst.cli("backup", "--out", str(tmp_path / "b.db")).exit_code == 0
    before = digest(inst.db)

    worker = subprocess.Popen([str(ROOT / ".venv/bin/journeys"), "worker"], cwd=ROOT,
                              env={**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, **inst.env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _held_within(inst.folder / "journeys.lock", 60), "the worker never took the instance"
        refused = inst.cli("restore", "--yes", str(tmp_path / "b.db"))
        assert refused.exit_code == 1 and "a Journeys process" in refused.stderr and "stop it first" in refused.stderr
    finally:
        worker.terminate()
        worker.wait(30)
    assert digest(inst.db) == before

    embedded = Instance(tmp_path / "e", None)  # no REDIS_URL: `journeys up` would start its own Redis here
    assert embedded.cli("backup", "--out", str(tmp_path / "e.db")).exit_code == 0
    redis = embedded_redis.start(embedded.folder)
    try:
        result = embedded.cli("restore", "--yes", str(tmp_path / "e.db"))
    finally:
        redis.terminate()
        redis.wait(10)
    assert result.exit_code == 1 and "Journeys is running on this instance" in result.stderr
    assert "stop `journeys up` first" in result.stderr


def test_restore_asks_before_replacing_and_backup_will_not_overwrite(tmp_path, redis_url):
    inst = Instance(tmp_path / "a", redis_url)
    assert inst.cli("backup", "--out", str(tmp_path / "b.db")).exit_code == 0
    again = inst.cli("backup", "--out", str(tmp_path / "b.db"))
    assert again.exit_code == 1 and "exists already" in again.stderr
    unattended = inst.cli("restore", str(tmp_path / "b.db"))  # CliRunner's stdin is no terminal
    assert unattended.exit_code == 2 and "--yes" in unattended.output
    default = inst.cli("backup")
    assert default.exit_code == 0 and str(inst.folder / "backups") in default.stdout


def test_a_secret_key_from_the_environment_is_not_copied_and_a_different_one_is_warned_about(tmp_path, redis_url):
    inst = Instance(tmp_path / "a", redis_url, SECRET_KEY="the-production-key")
    made = inst.cli("backup", "--out", str(tmp_path / "b.db"))
    assert made.exit_code == 0 and "SECRET_KEY comes from the environment and is not in the backup" in made.stdout
    with sqlite3.connect(tmp_path / "b.db") as conn:
        meta = dict(conn.execute("SELECT key, value FROM journeys_backup").fetchall())
    conn.close()
    assert "secret_key" not in meta and "the-production-key" not in (tmp_path / "b.db").read_bytes().decode("latin-1")
    same = inst.cli("restore", "--yes", str(tmp_path / "b.db"))
    assert same.exit_code == 0 and "secret key in use is the backup's" in same.stdout
    other = inst.cli("restore", "--yes", str(tmp_path / "b.db"), SECRET_KEY="another-key")
    assert other.exit_code == 0 and "Warning: the backup was taken with another SECRET_KEY" in other.stdout


@pytest.mark.parametrize("command", [["backup"], ["restore", "--yes", "whatever.db"]])
def test_on_postgresql_the_commands_point_to_pg_dump_and_exit_2(tmp_path, redis_url, command):
    env = environ_for(tmp_path, "postgresql+psycopg://journeys@db.example:5432/journeys", redis_url)
    result = run_cli(*command, env=env)
    assert result.returncode == 2, result.stderr
    assert "pg_dump" in result.stderr and "pg_restore" in result.stderr and "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
