"""The scheduler: one active instance, elected by a Redis lock with expiry.

Any number of `journeys scheduler` processes may run; the one holding the lock
ticks, the others wait to take over when its lock expires. Each tick runs the
registered tick tasks (later: claim due enrollments in SQL, enqueue batches).
"""
from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from typing import Callable

import redis
from redis.exceptions import LockError

log = logging.getLogger(__name__)

LOCK_NAME = "journeys:scheduler:leader"
HEARTBEAT_KEY = "journeys:scheduler:heartbeat"
#: Seconds the leader's lock lives without renewal; a dead leader is replaced after this.
LOCK_TTL = 10.0
#: Seconds between ticks: timers are checked at least this often.
TICK_INTERVAL = 1.0

TickTask = Callable[[], None]
TICK_TASKS: list[TickTask] = []


def tick_task(func: TickTask) -> TickTask:
    """Register `func` to run on every tick of the elected scheduler."""
    TICK_TASKS.append(func)
    return func


class Scheduler:
    def __init__(self, conn: redis.Redis, tasks: list[TickTask] | None = None, *,
                 interval: float = TICK_INTERVAL, lock_ttl: float = LOCK_TTL) -> None:
        self.conn = conn
        self.tasks = TICK_TASKS if tasks is None else tasks
        self.interval = interval
        self.ident = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.lock = conn.lock(LOCK_NAME, timeout=lock_ttl, blocking=False, thread_local=False)
        self.is_leader = False
        self.ticks = 0

    def lead(self) -> bool:
        """Take or keep the lock; returns whether this instance leads now."""
        try:
            if self.is_leader:
                self.lock.reacquire()
            else:
                self.is_leader = bool(self.lock.acquire(blocking=False))
                if self.is_leader:
                    log.info("scheduler %s is now the leader", self.ident)
        except LockError:
            # Our lock expired or Redis was wiped: someone else may lead now.
            log.warning("scheduler %s lost the lead", self.ident)
            self.is_leader = False
        except redis.RedisError as exc:
            log.warning("scheduler cannot reach Redis (%s); retrying", exc)
            self.is_leader = False
        return self.is_leader

    def tick(self) -> bool:
        """One round: lead or stand by. Returns whether tasks ran."""
        if not self.lead():
            return False
        for task in self.tasks:
            try:
                task()
            except Exception:  # noqa: BLE001 - one failing task must not stop the others
                log.exception("tick task %s failed", getattr(task, "__name__", task))
        self.ticks += 1
        try:
            self.conn.set(HEARTBEAT_KEY, f"{self.ident} {time.time():.3f}", ex=60)
        except redis.RedisError:
            pass
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.tick()
            stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        self.release()

    def release(self) -> None:
        if self.is_leader:
            try:
                self.lock.release()
            except (LockError, redis.RedisError):
                pass
            self.is_leader = False
