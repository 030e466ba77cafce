"""Backups of an embedded (SQLite) instance: one file, taken online, restored whole.

A backup is a consistent copy made with SQLite's online backup API while the app keeps
running: the copy is read inside one read transaction, so under WAL it is the database as
of one moment whatever the workers write meanwhile. The copy carries a small table,
`journeys_backup`, with what a restore needs besides the data: the schema revision, and the
instance's generated SECRET_KEY (without it the unsubscribe, preference and tracking links
in every email already sent stop working, and sessions end). A key given through the
environment is not copied, only its fingerprint, so a restore can say when it differs.

A restore refuses while a process of the instance runs, checks that the file is a Journeys
database at a migration this version knows, migrates a copy forward in a side file, and
only then swaps it in, keeping the previous database (and the embedded Redis's dump, whose
jobs describe it) beside it under a `.before-restore-<time>` name.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy.engine import make_url

from app import embedded_redis, instance_lock, migrate
from app.config import Settings
from app.errors import AppError, Conflict, NotFound, ValidationFailed

META_TABLE = "journeys_backup"
FORMAT = "1"
#: Pages copied per step of the backup API, so the progress bar moves (4 KiB pages: 16 MiB a step).
PAGES_PER_STEP = 4096
#: Tables any Journeys database has had since its first migration.
CORE_TABLES = ("alembic_version", "contacts", "journeys", "enrollments")
SQLITE_HEADER = b"SQLite format 3\x00"

Progress = Callable[[int, int], None]  # (pages done, pages in all)


class WrongBackend(AppError):
    """The command is for the embedded SQLite mode; PostgreSQL has its own tools."""

    title = "Wrong backend"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    revision: str
    created_at: str
    secret_included: bool  # the generated key is in the file
    secret_fingerprint: str | None  # sha256 prefix of the key in use when it was taken


@dataclass(frozen=True)
class Restored:
    database: Path
    previous: Path | None  # where the database it replaced now is
    from_revision: str
    to_revision: str
    secret: str  # restored | kept | differs | none


def database_path(settings: Settings) -> Path:
    if not settings.is_sqlite:
        raise WrongBackend(
            "DATABASE_URL points at PostgreSQL: back it up with its own tools, e.g. "
            "`pg_dump --format=custom --file journeys.dump \"$DB\"` and restore with "
            "`pg_restore --clean --if-exists --dbname \"$DB\" journeys.dump`, then `journeys db upgrade` "
            "(docs/operations.md#backups-and-restore). Keep SECRET_KEY with the dump.")
    name = make_url(settings.database_url).database
    if not name or name == ":memory:":
        raise WrongBackend("DATABASE_URL names an in-memory SQLite database: there is no file to back up.")
    return Path(name).expanduser().resolve()


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def generated_secret(settings: Settings) -> str | None:
    """The key the instance generated for itself, when that is the one in use (not SECRET_KEY)."""
    path = settings.instance_path / "secret_key"
    try:
        stored = path.read_text().strip()
    except OSError:
        return None
    return stored if stored == settings.secret_key else None


def default_target(settings: Settings, now: datetime) -> Path:
    return settings.instance_path / "backups" / f"journeys-{_stamp(now)}.db"


def create(settings: Settings, out: Path | None, now: datetime, on_progress: Progress | None = None) -> BackupInfo:
    """Copy the live database to `out` (default: instance/backups/journeys-<time>.db)."""
    source = database_path(settings)
    if not source.exists():
        raise NotFound(f"there is no database at {source}: nothing to back up (run `journeys db upgrade` "
                       "or `journeys up` first).")
    target = (out or default_target(settings, now)).expanduser().resolve()
    if target.exists():
        raise Conflict(f"{target} exists already: give another --out, or move that file away.")
    if target == source:
        raise Conflict("the backup cannot overwrite the live database.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial, on_progress)
        secret = generated_secret(settings)
        with _connect(partial) as conn:
            revision = _revision(conn, partial)
            meta = {"format": FORMAT, "created_at": now.isoformat(), "revision": revision,
                    "source": str(source), "journeys_version": _version(),
                    "secret_key_sha256": fingerprint(settings.secret_key),
                    "secret_key_source": "generated" if secret else "environment"}
            if secret:
                meta["secret_key"] = secret
            conn.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)", sorted(meta.items()))
            conn.commit()
            _quick_check(conn, partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupInfo(target, target.stat().st_size, revision, meta["created_at"], bool(secret),
                      meta["secret_key_sha256"])


def inspect(path: Path) -> tuple[str, dict[str, str]]:
    """(schema revision, backup metadata) of a file, or ValidationFailed saying why it is not a
    Journeys database this version can restore."""
    if not path.is_file():
        raise NotFound(f"{path}: no such file.")
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_HEADER:
            raise ValidationFailed(f"{path} is not a SQLite database, so not a Journeys backup.")
    try:
        with _connect(path, readonly=True) as conn:
            revision = _revision(conn, path)
            meta = _meta(conn)
            _quick_check(conn, path)
    except sqlite3.DatabaseError as exc:
        raise ValidationFailed(f"{path} cannot be read as a SQLite database ({exc}).") from None
    return revision, meta


def restore(settings: Settings, backup: Path, now: datetime, on_progress: Progress | None = None) -> Restored:
    target = database_path(settings)
    backup = backup.expanduser().resolve()
    revision, meta = inspect(backup)
    if backup == target:
        raise Conflict("that file is the live database itself.")
    if settings.embedded_redis and embedded_redis.is_answering(settings.redis_socket):
        raise Conflict(f"Journeys is running on this instance (its embedded Redis answers on "
                       f"{settings.redis_socket}): stop `journeys up` first, then restore.")
    with instance_lock.exclusive(settings):
        staged = target.with_name(target.name + ".restoring")
        staged.unlink(missing_ok=True)
        try:
            _copy(backup, staged, on_progress)
            with _connect(staged) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {META_TABLE}")
                conn.commit()
            _migrate(settings, staged)
            previous = _set_aside(target, now)
            try:
                os.replace(staged, target)
            except BaseException:
                if previous is not None:
                    os.replace(previous, target)  # the live database back where it was
                raise
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        if settings.embedded_redis:
            _set_aside(settings.instance_path / "redis.rdb", now)  # its jobs describe the old database
        secret = _restore_secret(settings, meta, now)
    return Restored(target, previous, revision, migrate.head_revision() or revision, secret)


def _copy(source: Path, target: Path, on_progress: Progress | None) -> None:
    """The online backup API, read in one transaction: one moment of the source, however busy."""
    src = sqlite3.connect(source, timeout=30, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read snapshot starts here
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # it holds credentials
        os.close(fd)
        dst = sqlite3.connect(target)
        try:
            def step(_status: int, remaining: int, total: int) -> None:
                if on_progress:
                    on_progress(total - remaining, total)

            src.backup(dst, pages=PAGES_PER_STEP, progress=step)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()


@contextmanager
def _connect(path: Path, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    conn = (sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) if readonly
            else sqlite3.connect(path, timeout=30))
    try:
        yield conn
    finally:
        conn.close()


def _revision(conn: sqlite3.Connection, path: Path) -> str:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in CORE_TABLES if t not in names]
    if missing:
        raise ValidationFailed(f"{path} is a SQLite database but not a Journeys one "
                               f"(no {', '.join(missing)} table).")
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        raise ValidationFailed(f"{path} has no schema revision: not a Journeys database.")
    revision = str(row[0])
    if not _known(revision):
        raise ValidationFailed(f"{path} is at schema revision {revision!r}, which this version of Journeys "
                               f"does not know (latest: {migrate.head_revision()}): it was made by a newer "
                               "version; upgrade Journeys first.")
    return revision


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory(str(migrate.MIGRATIONS_DIR)).get_revision(revision) is not None
    except CommandError:
        return False


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(conn.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
    except sqlite3.OperationalError:
        return {}  # a plain copy of journeys.db: restorable, without a key


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise ValidationFailed(f"{path} is damaged: SQLite's check says {result[0] if result else 'nothing'}.")


def _migrate(settings: Settings, staged: Path) -> None:
    from app.db import make_engine

    engine = make_engine(settings.with_overrides(database_url=f"sqlite:///{staged}"))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with _connect(staged) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # the engine turned WAL on: fold it back in


def _set_aside(path: Path, now: datetime) -> Path | None:
    """Move `path` (and an SQLite file's WAL, checkpointed first) to <name>.before-restore-<time>."""
    if not path.exists():
        return None
    if path.suffix == ".db":
        with _connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
    aside = path.with_name(f"{path.name}.before-restore-{_stamp(now)}")
    os.replace(path, aside)
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    return aside


def _restore_secret(settings: Settings, meta: dict[str, str], now: datetime) -> str:
    """What became of the key: `kept` (the one in use is the backup's), `restored` (the backup's
    generated key replaces instance/secret_key), `saved` (SECRET_KEY is set to another key: the
    backup's is written to instance/secret_key.from-backup), `differs` (another key, and the backup
    holds none: it came from the environment), `none` (a plain copy without metadata)."""
    backup_key, printed = meta.get("secret_key"), meta.get("secret_key_sha256")
    if not printed:
        return "none"
    if fingerprint(settings.secret_key) == printed:
        return "kept"
    if not backup_key:
        return "differs"
    in_use_is_generated = generated_secret(settings) is not None
    path = settings.instance_path / ("secret_key" if in_use_is_generated else "secret_key.from-backup")
    _set_aside(path, now)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(backup_key)
    return "restored" if in_use_is_generated else "saved"


def _stamp(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("journeys")
    except PackageNotFoundError:
        return "unknown"
