"""Native events: `POST /events` (one) and `POST /events/batch` (up to 1,000).

Each answers 202 only once the events are committed; processing follows in a job
(kicked here; if Redis is down the scheduler finds the stored events anyway).
"""
from __future__ import annotations

from typing import Annotated, Literal

from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, SkipValidation, ValidationError

from app import clock, jobs
from app.api import bp
from app.api.routing import IDEMPOTENCY_KEY, ApiCall, ProblemField, operation
from app.db import db
from app.errors import FieldProblem, ValidationFailed
from app.services import event_input, events
from app.services.event_input import EventIn

#: Events one batch request may carry.
BATCH_MAX = 1000
TAG = "Events"
SIGNING = ("Keys with a signing secret must also send the Standard Webhooks headers webhook-id, "
           "webhook-timestamp and webhook-signature; the webhook-id then deduplicates like Idempotency-Key.")


class EventAccepted(BaseModel):
    id: int = Field(description="The stored event's id (for a duplicate: the first event's).")
    status: Literal["accepted", "duplicate"]


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Items are validated one by one afterwards, so one bad event does not refuse the others.
    events: Annotated[list[SkipValidation[EventIn]], Field(min_length=1, max_length=BATCH_MAX)]


class ItemResult(BaseModel):
    index: int = Field(description="The item's position in events, from 0.")
    status: Literal["accepted", "duplicate", "rejected"]
    id: int | None = Field(default=None, description="The stored event's id; absent when rejected.")
    errors: list[ProblemField] = Field(default_factory=list, description="Why the item was rejected.")


class BatchAccepted(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[ItemResult] = Field(description="One per item, in order.")


@operation(bp, "POST", "/events", summary="Send one event", tag=TAG, scope="events:write",
           body=EventIn, status=202, result=EventAccepted, headers=(IDEMPOTENCY_KEY,),
           result_description="Stored; journeys will see it shortly.",
           description="Stores the event, then answers. A repeated idempotency key (body, "
                       "Idempotency-Key header, or signed webhook-id) stores nothing and answers "
                       "with the first event's id and status 'duplicate'. " + SIGNING)
def post_event(call: ApiCall) -> ResponseReturnValue:
    data = event_input.parse(call.body)
    stored = events.ingest(db.session, data, source=call.source, now=clock.now(),
                           idempotency_key=call.idempotency_key())
    if not stored.duplicate:
        jobs.kick_events()
    return {"id": stored.event_id, "status": "duplicate" if stored.duplicate else "accepted"}, 202


@operation(bp, "POST", "/events/batch", summary="Send up to 1,000 events", tag=TAG, scope="events:write",
           body=BatchIn, status=202, result=BatchAccepted, headers=(IDEMPOTENCY_KEY,),
           result_description="Every valid item is stored; each item has its own result.",
           description="Each item is validated on its own: valid ones are stored (in one transaction) "
                       "and bad ones are answered with their errors, pointing into this body. When no "
                       "item is valid the answer is 422. Items without an idempotency_key are keyed "
                       "'<Idempotency-Key>#<index>' when the header (or a signed webhook-id) is sent, "
                       "so a retried batch stores nothing twice. " + SIGNING)
def post_batch(call: ApiCall) -> ResponseReturnValue:
    try:
        items = BatchIn.model_validate(call.body).events
    except ValidationError as exc:
        problems = event_input.problems_of(exc)
        raise ValidationFailed(f"A batch is {{\"events\": [1 to {BATCH_MAX} events]}}: "
                               f"{problems[0].pointer or 'body'} {problems[0].detail}.", errors=problems) from None
    base_key = call.idempotency_key()
    results: list[dict[str, object]] = []
    valid: list[tuple[int, EventIn, str | None]] = []
    refusals: list[FieldProblem] = []
    for index, item in enumerate(items):
        try:
            data = event_input.parse(item, at=("events", index))
        except ValidationFailed as exc:
            refusals += exc.errors
            results.append({"index": index, "status": "rejected", "errors": [e.as_json() for e in exc.errors]})
            continue
        valid.append((index, data, data.idempotency_key or (f"{base_key}#{index}" if base_key else None)))
        results.append({"index": index})
    if not valid:
        raise ValidationFailed("No event in this batch is valid, so none was stored.", errors=refusals)
    stored = events.ingest_many(db.session, [(data, key) for _, data, key in valid],
                                source=call.source, now=clock.now())
    for (index, _, _), outcome in zip(valid, stored):
        results[index].update(status="duplicate" if outcome.duplicate else "accepted", id=outcome.event_id)
    accepted = sum(1 for s in stored if not s.duplicate)
    if accepted:
        jobs.kick_events()
    return {"accepted": accepted, "duplicates": len(stored) - accepted, "rejected": len(items) - len(valid),
            "results": results}, 202
