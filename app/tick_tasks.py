"""The work the elected scheduler does on every tick.

Timers: claim due enrollments in SQL and enqueue one job per batch. Events:
make sure stored, unprocessed events have a job. Messages: settle leases that
ran out (ambiguous or re-queued) and re-drive queued messages no job holds.
Webhook calls: the same, except that an expired lease is always queued again
(calls are at-least-once) until the attempts run out.
Everything is found in the database, so a wiped Redis loses nothing.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from app import clock, queues
from app.scheduler import tick_task

log = logging.getLogger(__name__)

#: Batches of due carts emitted per tick at most: the rest wait for the next tick (a second later).
MAX_BATCHES_PER_TICK = 40
#: Due enrollments claimed per tick at most: more than a worker advances in a second, few enough
#: that the claim's one update holds SQLite's write lock a short while.
MAX_CLAIMED_PER_TICK = 40_000
#: Ticks between two passes of the message reconciler.
RECONCILE_EVERY = 15
#: Ticks between two passes of trace retention (about an hour).
PRUNE_EVERY = 3600
#: A queued message younger than this still has its own delivery job on the way.
REDRIVE_AFTER = timedelta(seconds=60)

_app: Any = None
_ticks = 0


def _context():  # type: ignore[no-untyped-def]
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app.app_context()


@tick_task
def sweep_timers() -> None:
    from app import jobs
    from app.db import db
    from app.services import timers

    with _context():
        claims = timers.claim_batches(db.session, clock.now(), batches=MAX_CLAIMED_PER_TICK // timers.BATCH_SIZE)
        for number, claim in enumerate(claims):
            if not jobs._enqueue(queues.ENGINE, jobs.advance_enrollments, claim.ids):
                # No job holds these: the next tick claims them again.
                timers.release(db.session, [i for c in claims[number:] for i in c.ids])
                db.session.commit()
                return


@tick_task
def drive_events() -> None:
    from app import jobs
    from app.db import db
    from app.services import events

    with _context():
        if events.pending(db.session):
            jobs.kick_events()


@tick_task
def settle_messages() -> None:
    from app import jobs
    from app.db import db
    from app.services import ledger

    global _ticks
    _ticks += 1
    if _ticks % RECONCILE_EVERY != 1:
        return
    with _context():
        now = clock.now()
        settled = ledger.reconcile(db.session, now)
        if any(settled.values()):
            log.warning("settled expired delivery leases: %s", settled)
        jobs.enqueue_deliveries(ledger.due_for_delivery(db.session, now, older_than=now - REDRIVE_AFTER))


@tick_task
def settle_webhooks() -> None:
    from app import jobs
    from app.db import db
    from app.services import webhook_calls

    if _ticks % RECONCILE_EVERY != 1:  # counted by settle_messages, which runs first
        return
    with _context():
        now = clock.now()
        settled = webhook_calls.reconcile(db.session, now)
        if any(settled.values()):
            log.warning("settled expired webhook call leases: %s", settled)
        jobs.enqueue_webhooks(webhook_calls.due(db.session, now, older_than=now - REDRIVE_AFTER))


@tick_task
def prune_traces() -> None:
    from app.db import db
    from app.services import retention

    if _ticks % PRUNE_EVERY != 1:
        return
    with _context():
        days = _app.config["SETTINGS"].trace_retention_days
        deleted = retention.prune_traces(db.session, clock.now(), days)
        if deleted:
            log.info("pruned %d trace steps of enrollments finished over %d days ago", deleted, days)


@tick_task
def abandon_carts() -> None:
    """Store cart_abandoned for checkouts whose window ran out with no order (found in SQL)."""
    from app import jobs
    from app.db import db
    from app.services import carts

    with _context():
        now, stored = clock.now(), 0
        for _ in range(MAX_BATCHES_PER_TICK):
            done = carts.emit_due(db.session, now)
            stored += len(done.emitted)
            if done.handled < carts.BATCH:
                break
        if stored:
            jobs.kick_events()


@tick_task
def prune_shop_deliveries() -> None:
    """Forget shop delivery ids past their retention, and carts long since emitted or cancelled."""
    from app.db import db
    from app.services import carts, shop_webhooks

    if _ticks % PRUNE_EVERY != 1:
        return
    with _context():
        now = clock.now()
        deliveries = shop_webhooks.prune_deliveries(db.session, now)
        closed = carts.prune(db.session, now, shop_webhooks.DELIVERY_RETENTION_DAYS)
        if deliveries or closed:
            log.info("pruned %d shop deliveries and %d finished carts", deliveries, closed)


#: Ticks between two passes of the complaint guard (about a minute: rates move slowly).
COMPLAINT_GUARD_EVERY = 60


@tick_task
def guard_complaints() -> None:
    """Warn about, or pause, marketing journeys whose complaint rate climbs (app/services/complaint_guard.py)."""
    from app.db import db
    from app.services import complaint_guard

    if _ticks % COMPLAINT_GUARD_EVERY != 1:
        return
    with _context():
        with db.transaction() as s:
            complaint_guard.check(s, clock.now())


@tick_task
def carry_out_privacy_requests() -> None:
    """Erase and export what shops asked for (privacy_requests still `recorded`), as our own UI would."""
    from app.db import db
    from app.services import data_requests

    if _ticks % RECONCILE_EVERY != 1:
        return
    with _context():
        done = data_requests.process(db.session, clock.now())
        if done:
            log.info("carried out %d shop privacy request(s)", done)


#: Ticks between two computations of the bounce and complaint ratios /metrics shows (about a minute).
DELIVERY_RATIOS_EVERY = 60


@tick_task
def publish_delivery_ratios() -> None:
    """The last day's bounce and complaint ratios, into Redis for /metrics (app/gauges.py)."""
    from app import gauges
    from app.db import db
    from app.redis_conn import get_redis

    if _ticks % DELIVERY_RATIOS_EVERY != 1:
        return
    with _context():
        gauges.publish_delivery_ratios(db.session, get_redis(), clock.now())


#: Ticks between two passes of the A/B winner check (about five minutes: samples grow slowly).
SPLIT_WINNERS_EVERY = 300


@tick_task
def choose_split_winners() -> None:
    """Splits whose auto_winner rule is met send every new contact to the winner (app/services/analytics/ab.py)."""
    from app.db import db
    from app.services import workspace
    from app.services.analytics import ab, attribution

    if _ticks % SPLIT_WINNERS_EVERY != 1:
        return
    with _context():
        with db.transaction() as s:
            ws = workspace.current(s)
            chosen = ab.choose_winners(s, clock.now(), lambda j: attribution.credits(s, ws, journey_id=j))
        for journey_id, node, variant in chosen:
            log.info("journey %s: split %s chose variant %s as its winner", journey_id, node, variant)
