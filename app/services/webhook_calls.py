"""The webhook ledger and its delivery: queued → sending → done | failed.

A call row is written with the journey step that decided it (the effect key
is unique: a step applied twice cannot make a second call), with its body
already rendered, so every attempt sends the same bytes. Delivery leases one
call at a time with a conditional UPDATE that commits before the request,
checks the allow-list as it stands then, and records the answer.

Webhooks are at-least-once, unlike marketing mail: a receiver can drop a
repeat by its `Idempotency-Key` header, so an attempt whose answer was lost
(a timeout after the request went out, a worker killed mid-call) is simply
made again rather than parked for an operator.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.models import WebhookCall, WebhookCallStatus
from app.services import webhook_hosts, webhook_http
from journeys.effects import CallWebhook
from journeys.errors import TemplateError
from journeys.personalisation import template_context
from journeys.rendering import Renderer
from journeys.state import ContactFacts

#: Seconds a delivery job may hold a call before the reconciler queues it again.
LEASE_SECONDS = 120
#: Attempts before a call that keeps failing for now is given up (failed).
MAX_ATTEMPTS = 6
#: Seconds before the first retry; doubled on each further attempt (30 s … 8 min).
BACKOFF_BASE = 30
#: Seconds a receiver may ask us to wait (Retry-After) at most; longer requests are capped.
MAX_RETRY_AFTER = 3600
#: Seconds one attempt may take, from connecting to the end of the answer. Read at call time,
#: so a test can shorten it.
TIMEOUT = 10.0

QUEUED, SENDING = WebhookCallStatus.queued.value, WebhookCallStatus.sending.value
DONE, FAILED = WebhookCallStatus.done.value, WebhookCallStatus.failed.value

_renderer = Renderer()


def row(effect: CallWebhook, enrollment_id: int, contact_id: int, facts: ContactFacts,
        event: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The ledger row of a CallWebhook effect: queued, or failed with why when it cannot be sent."""
    base = {"key": effect.key, "contact_id": contact_id, "enrollment_id": enrollment_id,
            "node": effect.node, "method": effect.method, "url": effect.url[:2000],
            "headers": dict(effect.headers), "body": None, "status": QUEUED, "attempts": 0,
            "created_at": now, "updated_at": now}
    try:
        # The context emails see, minus the unsubscribe and preference links: those are signed
        # per email, and a webhook is not one.
        context = template_context(facts, event)
        base["body"] = _renderer.render_text(effect.body, context, "body") if effect.body else None
        webhook_http.request_headers(effect.headers, base["body"], effect.key)
    except TemplateError as exc:
        return {**base, "status": FAILED, "last_error": f"body template: {exc}"[:2000]}
    except ValueError as exc:
        return {**base, "status": FAILED, "last_error": str(exc)[:2000]}
    return base


def deliver(db: Session, ids: list[int], now_fn: Callable[[], datetime],
            timeout: float | None = None) -> Counter[str]:
    """Call the queued, due webhooks among `ids`, one at a time; returns counts by outcome.

    The allow-list is read when the job starts: a host an admin removed is
    refused from the next job on, whatever was queued before.
    """
    outcomes: Counter[str] = Counter()
    allowed = webhook_hosts.patterns(db)
    db.commit()  # no transaction stays open during a request
    for ident in ids:
        call = lease(db, ident, now_fn())
        if call is not None:
            outcomes[_call(call, allowed, now_fn, TIMEOUT if timeout is None else timeout)] += 1
            db.commit()
    return outcomes


def lease(db: Session, ident: int, now: datetime, seconds: int = LEASE_SECONDS) -> WebhookCall | None:
    """Take one queued, due call for this job, or None; commits before any request.

    One conditional UPDATE … RETURNING: of two jobs racing for a call, exactly
    one changes its row, on SQLite (no row locks) as on Postgres.
    """
    call = db.scalars(
        update(WebhookCall)
        .where(WebhookCall.id == ident, WebhookCall.status == QUEUED,
               or_(WebhookCall.next_attempt_at.is_(None), WebhookCall.next_attempt_at <= now))
        .values(status=SENDING, lease_until=now + timedelta(seconds=seconds),
                attempts=WebhookCall.attempts + 1, updated_at=now)
        .returning(WebhookCall).execution_options(populate_existing=True)).one_or_none()
    db.commit()
    return call


def _call(call: WebhookCall, allowed: list[str], now_fn: Callable[[], datetime], timeout: float) -> str:
    refused = webhook_hosts.refusal(call.url, allowed)
    if refused is None:
        try:
            headers = webhook_http.request_headers(call.headers or {}, call.body, call.key)
        except ValueError as exc:
            refused = str(exc)
    if refused is not None:
        call.attempts -= 1  # the lease counted an attempt, but no request was made
        mark_failed(call, now_fn(), refused)
        return "refused"
    result = webhook_http.send(call.method, call.url, headers, call.body, timeout)
    now = now_fn()
    call.response_status = result.status
    if result.kind == "done":
        call.status, call.done_at, call.updated_at = DONE, now, now
        call.lease_until, call.last_error, call.next_attempt_at = None, None, None
        return "done"
    if result.kind == "retry":
        return "retrying" if retry_later(call, now, result.detail, result.retry_after) else "failed"
    mark_failed(call, now, result.detail)
    return "failed"


def mark_failed(call: WebhookCall, now: datetime, error: str) -> None:
    call.status, call.updated_at = FAILED, now
    call.lease_until, call.next_attempt_at, call.last_error = None, None, error[:2000]


def retry_later(call: WebhookCall, now: datetime, error: str, wait: float | None = None) -> bool:
    """Back off after a failure for now; False when the attempts are used up (failed)."""
    if call.attempts >= MAX_ATTEMPTS:
        mark_failed(call, now, f"gave up after {call.attempts} attempts: {error}")
        return False
    delay = max(BACKOFF_BASE * 2 ** (call.attempts - 1), min(wait or 0, MAX_RETRY_AFTER))
    call.status, call.next_attempt_at = QUEUED, now + timedelta(seconds=delay)
    call.lease_until, call.last_error, call.updated_at = None, error[:2000], now
    return True


def reconcile(db: Session, now: datetime) -> dict[str, int]:
    """Calls whose job vanished mid-call (killed worker, wiped Redis) are made again, or given up."""
    expired = (WebhookCall.status == SENDING, WebhookCall.lease_until < now)
    given_up = db.execute(
        update(WebhookCall).where(*expired, WebhookCall.attempts >= MAX_ATTEMPTS)
        .values(status=FAILED, lease_until=None, updated_at=now,
                last_error=f"gave up after {MAX_ATTEMPTS} attempts: the last one's lease expired "
                           "during the call (a worker stopped?)")).rowcount or 0
    requeued = db.execute(
        update(WebhookCall).where(*expired)
        .values(status=QUEUED, lease_until=None, next_attempt_at=now, updated_at=now,
                last_error="the lease expired during the call (a worker stopped?): called again, "
                           "the receiver may see it twice")).rowcount or 0
    db.commit()
    return {"failed": given_up, "requeued": requeued}


def due(db: Session, now: datetime, limit: int = 1000, older_than: datetime | None = None) -> list[int]:
    """Queued calls whose time has come: the reconciler enqueues them again.

    `older_than`: skip calls queued since then; their own job is still on its way.
    """
    when = or_(WebhookCall.next_attempt_at <= now,
               WebhookCall.next_attempt_at.is_(None) if older_than is None
               else (WebhookCall.next_attempt_at.is_(None) & (WebhookCall.updated_at < older_than)))
    return list(db.scalars(select(WebhookCall.id).where(WebhookCall.status == QUEUED, when)
                           .order_by(WebhookCall.id).limit(limit)))


def counts(db: Session, states: tuple[str, ...]) -> dict[str, int]:
    """How many calls are in each of `states` (failed ones need an operator)."""
    rows = dict(db.execute(select(WebhookCall.status, func.count()).where(WebhookCall.status.in_(states))
                           .group_by(WebhookCall.status)).all())
    return {state: rows.get(state, 0) for state in states}
