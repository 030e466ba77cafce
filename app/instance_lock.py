"""Who uses an instance folder: every long-running process holds a shared lock on
`instance/journeys.lock`; `journeys restore` needs it exclusively.

A restore swaps the SQLite file under the processes' feet, so it must know none runs: the
embedded Redis answering on the instance's socket says `journeys up` runs, and this lock
says the same of a `journeys web`, `worker` or `scheduler` started on their own (with an
external REDIS_URL). `flock` locks vanish with their process, so a crash leaves none behind.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from app.config import Settings
from app.errors import Conflict

LOCK_NAME = "journeys.lock"

# Open lock files of this process: kept so the lock lives as long as the process.
_held: list[int] = []


def lock_path(settings: Settings) -> Path:
    return settings.instance_path / LOCK_NAME


def hold_shared(settings: Settings, *, inheritable: bool = False) -> None:
    """Mark this process as using the instance until it exits (SQLite instances only: on
    PostgreSQL the processes share no folder and restore is pg_restore's business).
    `inheritable`: the lock survives an exec (`journeys web --server gunicorn`)."""
    if not settings.is_sqlite:
        return
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(settings), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)  # blocks only while a restore holds it, which is brief
    os.set_inheritable(fd, inheritable)
    _held.append(fd)


@contextmanager
def exclusive(settings: Settings) -> Iterator[None]:
    """Hold the instance alone for the block; Conflict when a process of it runs."""
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(settings), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"a Journeys process (web, worker, scheduler or an import) uses "
                           f"{settings.instance_path}: stop it first.") from None
        yield
    finally:
        os.close(fd)
