"""The gauges an operator alerts on (docs/operations.md#metrics-and-alerts).

Most are read at scrape time, from indexed counts (due enrollments by status and wake time,
messages and webhook calls by status, unprocessed events) and one Redis key (the scheduler's
heartbeat), so they are never stale and cost a few index lookups. Bounce and complaint
ratios need a scan of the last day's messages: the elected scheduler computes them once a
minute (`publish_delivery_ratios`, a tick task) into one Redis hash that the scrape reads,
with their age beside them, so one process pays for them however many web processes are
scraped.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any, Iterator

import redis
from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Message, MessageStatus

log = logging.getLogger(__name__)

RATIOS_KEY = "journeys:gauges:delivery"
#: The window of the bounce and complaint ratios.
RATIO_WINDOW = timedelta(hours=24)
#: Message states that need an operator (failed, ambiguous) or show a backlog (queued).
MESSAGE_STATES = ("queued", "failed", "ambiguous")


class EngineCollector:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.app.app_context():
            yield from self._database()
            yield from self._redis()

    def _database(self) -> Iterator[GaugeMetricFamily]:
        from app.db import db
        from app.services import events, ledger, timers, webhook_calls

        up = GaugeMetricFamily("journeys_database_up", "1 when the database answered this scrape")
        try:
            s = db.session
            due = timers.due_unclaimed(s, clock.now())
            messages = ledger.counts(s, MESSAGE_STATES)
            pending = events.pending(s)
            calls = webhook_calls.counts(s, ("failed",))["failed"]
            s.rollback()
        except Exception as exc:  # noqa: BLE001 - a scrape reports the outage instead of failing
            log.warning("metrics: database unreachable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _gauge("journeys_enrollments_due_unclaimed",
                     "Enrollments whose timer is due that no batch holds: stays high when the scheduler or "
                     "the workers fall behind", due)
        by_state = GaugeMetricFamily("journeys_messages", "Messages queued, failed (gave up) or ambiguous "
                                     "(may or may not have been delivered)", labels=["status"])
        for state, number in messages.items():
            by_state.add_metric([state], number)
        yield by_state
        yield _gauge("journeys_events_pending", "Stored events not yet processed", pending)
        yield _gauge("journeys_webhook_calls_failed", "Webhook node calls that gave up", calls)

    def _redis(self) -> Iterator[GaugeMetricFamily]:
        from app.redis_conn import get_redis
        from app.scheduler import HEARTBEAT_KEY

        beat_age, ratios = -1.0, {}
        try:
            conn = get_redis()
            beat = conn.get(HEARTBEAT_KEY)
            if beat:
                beat_age = max(0.0, time.time() - float(beat.decode().rpartition(" ")[2]))
            ratios = {k.decode(): float(v) for k, v in conn.hgetall(RATIOS_KEY).items()}
        except (redis.RedisError, ValueError):
            pass
        yield _gauge("journeys_scheduler_last_tick_age_seconds",
                     "Seconds since the leading scheduler last ticked; -1: none within a minute (no leader)",
                     beat_age)
        if "computed_at" not in ratios:
            return
        yield _gauge("journeys_delivery_ratios_age_seconds", "Seconds since the ratios below were computed",
                     max(0.0, time.time() - ratios["computed_at"]))
        yield _gauge("journeys_messages_sent_24h", "Messages sent in the last 24 hours", ratios["sent"])
        yield _gauge("journeys_bounce_ratio_24h", "Of the messages sent in the last 24 hours, the share that "
                     "bounced (0-1)", ratios["bounced"] / ratios["sent"] if ratios["sent"] else 0.0)
        yield _gauge("journeys_complaint_ratio_24h", "Of the messages sent in the last 24 hours, the share "
                     "reported as spam (0-1)", ratios["complained"] / ratios["sent"] if ratios["sent"] else 0.0)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], value)
    return gauge


def delivery_counts(db: Session, now: datetime) -> dict[str, int]:
    """Messages sent within RATIO_WINDOW before `now`, and how many of them bounced or were
    reported as spam since (a bounce changes a sent message's status, not its sent_at)."""
    outcome = (MessageStatus.sent.value, MessageStatus.bounced.value, MessageStatus.complained.value)
    bounced = func.sum(case((Message.status == MessageStatus.bounced.value, 1), else_=0))
    complained = func.sum(case((Message.status == MessageStatus.complained.value, 1), else_=0))
    row = db.execute(select(func.count(), bounced, complained).select_from(Message)
                     .where(Message.sent_at >= now - RATIO_WINDOW, Message.status.in_(outcome))).one()
    return {"sent": int(row[0] or 0), "bounced": int(row[1] or 0), "complained": int(row[2] or 0)}


def publish_delivery_ratios(db: Session, conn: Any, now: datetime) -> dict[str, int]:
    counts = delivery_counts(db, now)
    db.rollback()
    conn.hset(RATIOS_KEY, mapping={**counts, "computed_at": time.time()})
    conn.expire(RATIOS_KEY, 3600)  # a scheduler gone for an hour: the ratios vanish rather than lie
    return counts
