"""The RQ jobs of the engine. Each takes ids or nothing, is idempotent, and commits its work
before enqueueing what follows, so a lost or repeated job never loses or doubles anything:
the database says what is left, and the scheduler's reconciler re-drives it.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import redis
from flask import current_app
from rq import Retry

from app import clock, queues
from app.db import db
from app.redis_conn import get_redis
from app.services import advancement, delivery, events, webhook_calls

log = logging.getLogger(__name__)

#: Messages one delivery job sends over one SMTP connection. Large, because a forked job
#: costs tens of milliseconds before its first message; leasing one message at a time keeps
#: a crash down to one unsure message whatever the size.
DELIVERY_BATCH = 500
#: Webhook calls one job makes, one after another: at the 10 s timeout each, well inside the job timeout.
WEBHOOK_BATCH = 20
#: Seconds one event-processing job keeps going before it hands over to a fresh job.
EVENTS_SLICE = 30.0
#: The lock that keeps event processing in order: one processor at a time.
EVENTS_LOCK = "journeys:events:processor"
#: A short-lived marker: an event-processing job is already queued.
EVENTS_KICKED = "journeys:events:kicked"
RETRY = Retry(max=3)


def _enqueue(queue: str, func: Any, *args: Any) -> bool:
    try:
        queues.enqueue(queue, func, *args, retry=RETRY)
    except redis.RedisError as exc:
        # The database holds the work; the scheduler's reconciler enqueues it again.
        log.warning("could not enqueue %s (%s); the scheduler will retry", func.__name__, exc)
        return False
    return True


def enqueue_deliveries(ids: list[int]) -> None:
    for start in range(0, len(ids), DELIVERY_BATCH):
        _enqueue(queues.DELIVERY, deliver_messages, ids[start:start + DELIVERY_BATCH])


def enqueue_webhooks(ids: list[int]) -> None:
    for start in range(0, len(ids), WEBHOOK_BATCH):
        _enqueue(queues.DELIVERY, call_webhooks, ids[start:start + WEBHOOK_BATCH])


def kick_events() -> None:
    """Make sure an event-processing job is on its way (at most one queued at a time)."""
    try:
        conn = get_redis()
        if not conn.set(EVENTS_KICKED, "1", nx=True, ex=5):
            return
    except redis.RedisError as exc:
        log.warning("could not enqueue event processing (%s); the scheduler will retry", exc)
        return
    if not _enqueue(queues.ENGINE, process_events):
        try:
            conn.delete(EVENTS_KICKED)  # no job is on its way: the next tick must try again
        except redis.RedisError:
            pass


def process_events() -> dict[str, int]:
    """Process stored events in arrival order until none are left (or the slice ends)."""
    conn = get_redis()
    conn.delete(EVENTS_KICKED)
    lock = conn.lock(EVENTS_LOCK, timeout=EVENTS_SLICE * 4, blocking=False)
    if not lock.acquire():
        return {"processed": 0, "busy": 1}  # the holder drains what we would have
    processed, began = 0, time.monotonic()
    try:
        while time.monotonic() - began < EVENTS_SLICE:
            before = events.pending(db.session)
            if not before:
                break
            applied = events.process_pending(db.session, clock.now())
            processed += before - events.pending(db.session)
            enqueue_deliveries(applied.messages)
            enqueue_webhooks(applied.webhooks)
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass
    if events.pending(db.session):
        kick_events()
    return {"processed": processed}


def advance_enrollments(ids: list[int]) -> dict[str, int]:
    applied = advancement.advance_due(db.session, ids, clock.now())
    enqueue_deliveries(applied.messages)
    enqueue_webhooks(applied.webhooks)
    return {"enrollments": len(ids), "messages": len(applied.messages), "webhooks": len(applied.webhooks)}


def deliver_messages(ids: list[int]) -> dict[str, int]:
    from app.mail.streams import streams_from_settings
    from app.services import dkim_keys

    settings = current_app.config["SETTINGS"]
    # Marketing and transactional streams (their own SMTP and rate when configured), DKIM-signed with a key.
    streams = streams_from_settings(settings, dkim_keys.signer(db.session, settings))
    outcomes = delivery.deliver(db.session, ids, clock.now, streams, settings)
    return dict(outcomes)


def call_webhooks(ids: list[int]) -> dict[str, int]:
    return dict(webhook_calls.deliver(db.session, ids, clock.now))

