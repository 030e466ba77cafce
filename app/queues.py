"""RQ queues and the job wrapper that runs each job inside an app context."""
from __future__ import annotations

import logging
from typing import Any, Callable

import redis
from flask import current_app
from rq import Queue, Retry
from rq.registry import FailedJobRegistry

from app.heap import freeze_startup
from app.redis_conn import get_redis

log = logging.getLogger(__name__)

#: Queue names, most urgent first: a worker drains them in this order.
ENGINE = "engine"      # advancing enrollments, processing events
DELIVERY = "delivery"  # sending mail
DEFAULT = "default"    # everything else (exports, imports, housekeeping)
ALL = (ENGINE, DELIVERY, DEFAULT)

#: Seconds a job may run before RQ stops it.
JOB_TIMEOUT = 600


def get_queue(name: str, connection: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or get_redis(), default_timeout=JOB_TIMEOUT,
                 serializer="rq.serializers.JSONSerializer")


def enqueue(queue: str, func: Callable[..., Any] | str, *args: Any, retry: Retry | None = None,
            **kwargs: Any):  # type: ignore[no-untyped-def]
    """Enqueue `func(*args)`; arguments must be JSON primitives (ids, not objects).

    `retry`: RQ re-runs a job killed with its worker only when it carries one.
    """
    target = func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"
    return get_queue(queue).enqueue("app.queues.run_job", target, list(args), kwargs, retry=retry)


def run_job(target: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Executed by the worker: import `target` and call it inside an app context."""
    from importlib import import_module

    from app import create_app

    module, _, name = target.rpartition(".")
    func = getattr(import_module(module), name)
    app = _worker_app or create_app()
    with app.app_context():
        return func(*args, **kwargs)


_worker_app = None


#: Allocations between young-generation collections in a worker (CPython's default: 700).
WORKER_GC_THRESHOLD = (50_000, 20, 100)


def tune_worker_gc() -> None:
    """Garbage collection for a worker process, called once after its app is built.

    A batch allocates hundreds of thousands of small containers, and with the default
    thresholds the collector ran every 700 of them, walking the whole long-lived heap
    (SQLAlchemy, the app) again and again: a quarter of a wake-up batch's time. Startup
    objects are frozen out of its sight (which also keeps their pages shared with
    forked work horses), and collections come less often.
    """
    freeze_startup(WORKER_GC_THRESHOLD)


def bind_worker_app(app: Any) -> None:
    """The worker builds its app once; jobs reuse it instead of one app per job."""
    global _worker_app
    _worker_app = app


def depths() -> list[tuple[str, int, int]]:
    """(queue, waiting jobs, failed jobs) for every queue; -1 when Redis is down."""
    conn = get_redis()
    out = []
    for name in ALL:
        try:
            q = get_queue(name, conn)
            out.append((name, q.count, FailedJobRegistry(queue=q).count))
        except redis.RedisError:
            log.warning("queue depth unavailable for %s: Redis unreachable", name)
            out.append((name, -1, -1))
    return out


def ping() -> str:
    """A trivial job: proves a worker is consuming the queue."""
    return f"pong from {current_app.name}"
