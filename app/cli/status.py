"""`journeys status`: what an operator looks at first."""
from __future__ import annotations

import click
import redis
from rq.registry import FailedJobRegistry

from app import clock, queues
from app.cli.context import app_context
from app.db import db
from app.redis_conn import get_redis
from app.scheduler import HEARTBEAT_KEY
from app.services import events, ledger, timers, webhook_calls


@click.command()
def status() -> None:
    """Queue depths, due-but-unclaimed enrollments, failed messages and webhook calls, failed jobs,
    the last scheduler tick."""
    with app_context():
        now = clock.now()
        click.echo(f"due but unclaimed enrollments: {timers.due_unclaimed(db.session, now)}")
        click.echo(f"messages queued and due:       {len(ledger.due_for_delivery(db.session, now))}")
        click.echo(f"events waiting to be processed: {events.pending(db.session)}")
        for state, number in ledger.counts(db.session, ("failed", "ambiguous")).items():
            click.echo(f"messages {state + ':':<22}{number}")
        click.echo(f"webhook calls failed:          {webhook_calls.counts(db.session, ('failed',))['failed']}")
        try:
            for name, depth, failed in queues.depths():
                click.echo(f"queue {name:<9} waiting {depth:>6}   failed {failed:>5}")
            beat = get_redis().get(HEARTBEAT_KEY)
            click.echo("last scheduler tick: " + (_describe(beat.decode(), now.timestamp())
                                                 if beat else "none in the last minute"))
        except redis.RedisError as exc:
            click.echo(f"Redis unreachable: {exc}")


def _describe(beat: str, now_ts: float) -> str:
    ident, _, ts = beat.rpartition(" ")
    return f"{now_ts - float(ts):.1f}s ago by {ident}"


@click.command("retry-failed")
@click.option("--queue", "queue_name", type=click.Choice(queues.ALL), default=None,
              help="Only this queue (default: all).")
def retry_failed(queue_name: str | None) -> None:
    """Put failed jobs back on their queue."""
    with app_context():
        total = 0
        for name in [queue_name] if queue_name else list(queues.ALL):
            registry = FailedJobRegistry(queue=queues.get_queue(name))
            for job_id in registry.get_job_ids():
                registry.requeue(job_id)
                total += 1
        click.echo(f"requeued {total} failed job(s)")
