"""Webhook nodes end to end: a journey step writes a call, a delivery job makes it against a real
HTTP server in this process, with the allow-list, retries, the timeout and the reconciler."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app import clock, create_app
from app.db import db
from app.models import EnrollmentStep, WebhookCall, WebhookHost
from app.services import webhook_calls
from tests.engine_support import (HookServer, allow_host, chain, event, journey, post, run_until_quiet, webhook,
                                  work)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
BODY = '{"email": {{ contact.email|tojson }}, "name": "{{ contact.first_name }}", "total": {{ event.total }}}'


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    with HookServer() as server:
        yield server


@pytest.fixture
def engine_app(app, settings):  # type: ignore[no-untyped-def]
    application = create_app(settings.with_overrides(mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    yield application
    application.extensions["db_engine"].dispose()


def setup(application: Any, *steps: dict[str, Any], **settings: Any) -> None:
    with application.app_context():
        with db.transaction() as s:
            journey(s, chain("order_placed", *steps, settings=settings), now=T0)


def calls(application: Any) -> list[WebhookCall]:
    with application.app_context():
        return list(db.session.scalars(select(WebhookCall).order_by(WebhookCall.id)))


def test_a_webhook_node_makes_one_request_with_the_rendered_body_and_headers(engine_app, hooks):
    allow_host(engine_app, "127.0.0.1")
    setup(engine_app, webhook("crm", hooks.url("/orders?src=journeys"), BODY, headers={"X-Token": "s3cret"}))
    post(engine_app, event("order_placed", "klara@example.com", total=42.5))
    work(engine_app)
    [request] = hooks.box.requests
    assert (request.method, request.path) == ("POST", "/orders?src=journeys")
    assert json.loads(request.body) == {"email": "klara@example.com", "name": "Klara", "total": 42.5}
    [call] = calls(engine_app)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Journeys/0.1.0"
    assert request.headers["x-token"] == "s3cret"
    assert request.headers["idempotency-key"] == request.headers["webhook-id"] == call.key
    assert (call.status, call.attempts, call.response_status, call.done_at) == ("done", 1, 200, T0)
    assert call.last_error is None and call.node == "crm" and call.method == "POST"
    with engine_app.app_context():
        steps = [(s.node, s.outcome) for s in db.session.scalars(select(EnrollmentStep).order_by(EnrollmentStep.id))]
    assert steps == [("start", "entered"), ("crm", "passed"), ("end", "completed")]


def test_a_host_not_on_the_allow_list_gets_no_request_and_the_call_says_how_to_allow_it(engine_app, hooks):
    allow_host(engine_app, "*.example.com")  # subdomains only: not 127.0.0.1
    setup(engine_app, webhook("crm", hooks.url(), "hello"))
    post(engine_app, event("order_placed", "ana@example.com"))
    work(engine_app)
    run_until_quiet(engine_app, T0 + timedelta(hours=1))
    assert hooks.box.count() == 0
    [call] = calls(engine_app)
    assert (call.status, call.attempts, call.response_status) == ("failed", 0, None)
    assert "127.0.0.1 is not on the webhook allow-list" in call.last_error
    assert "journeys webhooks allow 127.0.0.1" in call.last_error


def test_a_server_error_is_retried_after_the_backoff_with_the_same_body_and_key(engine_app, hooks):
    allow_host(engine_app, "127.0.0.1")
    hooks.box.replies = [500]
    setup(engine_app, webhook("crm", hooks.url(), BODY))
    post(engine_app, event("order_placed", "ola@example.com", total=10))
    work(engine_app)
    [call] = calls(engine_app)
    assert (call.status, call.attempts, call.response_status) == ("queued", 1, 500)
    assert call.next_attempt_at == T0 + timedelta(seconds=webhook_calls.BACKOFF_BASE)
    assert call.last_error.startswith("HTTP 500")
    run_until_quiet(engine_app, T0 + timedelta(seconds=29))
    assert hooks.box.count() == 1
    run_until_quiet(engine_app, T0 + timedelta(seconds=31))
    [call] = calls(engine_app)
    assert (call.status, call.attempts, call.response_status, call.last_error) == ("done", 2, 200, None)
    first, second = hooks.box.requests
    assert first.body == second.body and first.headers["idempotency-key"] == second.headers["idempotency-key"]


@pytest.mark.parametrize("status, error", [(404, "HTTP 404 Not Found"),
                                           (302, "redirects are not followed to http://127.0.0.1:1/elsewhere")])
def test_a_client_error_or_a_redirect_fails_at_once(engine_app, hooks, status, error):
    allow_host(engine_app, "127.0.0.1")
    hooks.box.status = status
    setup(engine_app, webhook("crm", hooks.url(), "hello"))
    post(engine_app, event("order_placed", "eva@example.com"))
    work(engine_app)
    run_until_quiet(engine_app, T0 + timedelta(hours=2))
    assert hooks.box.count() == 1  # neither retried nor followed
    [call] = calls(engine_app)
    assert (call.status, call.attempts, call.response_status) == ("failed", 1, status)
    assert error in call.last_error


def test_a_slow_server_times_out_and_the_call_is_retried(engine_app, hooks, monkeypatch):
    monkeypatch.setattr(webhook_calls, "TIMEOUT", 0.5)
    allow_host(engine_app, "127.0.0.1")
    hooks.box.delays = [1.5]
    setup(engine_app, webhook("crm", hooks.url(), "hello"))
    post(engine_app, event("order_placed", "slow@example.com"))
    work(engine_app)
    [call] = calls(engine_app)
    assert (call.status, call.attempts) == ("queued", 1)
    assert call.last_error == "timed out after 0.5 s waiting for the answer (the request was sent)"
    run_until_quiet(engine_app, T0 + timedelta(seconds=31))
    [call] = calls(engine_app)
    assert (call.status, call.attempts) == ("done", 2) and hooks.box.count() == 2


def test_a_refused_connection_is_retried_and_retry_after_is_honoured(engine_app, hooks):
    from tests.engine_support import free_port

    allow_host(engine_app, "127.0.0.1")
    hooks.box.replies, hooks.box.retry_after = [429], "120"
    setup(engine_app, webhook("down", f"http://127.0.0.1:{free_port()}/hook", "x"), webhook("busy", hooks.url(), "y"))
    post(engine_app, event("order_placed", "retry@example.com"))
    work(engine_app)
    down, busy = calls(engine_app)
    assert (down.status, down.next_attempt_at) == ("queued", T0 + timedelta(seconds=30))
    assert down.last_error.startswith("failed connecting: ConnectionRefusedError")
    assert (busy.status, busy.response_status, busy.next_attempt_at) == ("queued", 429, T0 + timedelta(seconds=120))


def test_the_same_event_twice_and_a_repeated_job_make_one_call(engine_app, hooks):
    from app import jobs

    allow_host(engine_app, "127.0.0.1")
    setup(engine_app, webhook("crm", hooks.url(), "hello"))
    post(engine_app, event("order_placed", "twice@example.com", key="shop-1"))
    post(engine_app, event("order_placed", "twice@example.com", key="shop-1"))
    work(engine_app)
    [call] = calls(engine_app)
    with engine_app.app_context():
        assert jobs.call_webhooks([call.id]) == {}  # a duplicate job finds it done
    run_until_quiet(engine_app, T0 + timedelta(hours=1))
    assert hooks.box.count() == 1


def test_a_call_whose_worker_died_is_made_again_when_its_lease_expires(engine_app, hooks):
    from app.services import events

    allow_host(engine_app, "127.0.0.1")
    setup(engine_app, webhook("crm", hooks.url(), "hello"))
    post(engine_app, event("order_placed", "lost@example.com"))
    with engine_app.app_context():  # step and lease in this process; the job that would call never runs
        events.process_pending(db.session, T0)
        [ident] = db.session.scalars(select(WebhookCall.id)).all()
        assert webhook_calls.lease(db.session, ident, T0) is not None
    run_until_quiet(engine_app, T0 + timedelta(seconds=60))
    assert hooks.box.count() == 0  # still leased
    run_until_quiet(engine_app, T0 + timedelta(seconds=webhook_calls.LEASE_SECONDS + 1))
    [call] = calls(engine_app)
    assert (call.status, call.attempts) == ("done", 2) and hooks.box.count() == 1


def test_a_body_that_fails_to_render_fails_the_call_and_the_journey_goes_on(engine_app, hooks):
    allow_host(engine_app, "127.0.0.1")
    setup(engine_app, webhook("bad", hooks.url(), "{{ 1 // 0 }}"), webhook("good", hooks.url("/ok"), "fine"))
    post(engine_app, event("order_placed", "broken@example.com"))
    work(engine_app)
    bad, good = calls(engine_app)
    assert bad.status == "failed" and bad.last_error.startswith("body template: ")
    assert "division" in bad.last_error and bad.body is None
    assert good.status == "done" and [r.path for r in hooks.box.requests] == ["/ok"]


def test_holdout_contacts_pass_the_node_without_a_call(engine_app, hooks):
    allow_host(engine_app, "127.0.0.1")
    setup(engine_app, webhook("crm", hooks.url(), "hello"), holdout_percent=100)
    post(engine_app, event("order_placed", "control@example.com"))
    work(engine_app)
    assert calls(engine_app) == [] and hooks.box.count() == 0
    with engine_app.app_context():
        step = db.session.scalars(select(EnrollmentStep).where(EnrollmentStep.node == "crm")).one()
    assert (step.outcome, step.reason) == ("skipped", "holdout")


def test_cli_allows_lists_and_disallows_hosts_and_status_counts_failed_calls(engine_app, hooks, monkeypatch):
    from app.cli import main

    # The commands build their app from the environment; this one points at the test database and Redis.
    monkeypatch.setattr("app.cli.context.create_app", lambda: engine_app)
    runner = CliRunner()

    def cli(*args: str) -> Any:
        return runner.invoke(main, list(args), prog_name="journeys")

    for command in (["webhooks"], ["webhooks", "allow"], ["webhooks", "disallow"], ["webhooks", "list"]):
        shown = cli(*command, "--help")
        assert shown.exit_code == 0 and "Usage: journeys" in shown.output, command
    assert "No host is allowed" in cli("webhooks", "list").output
    added = cli("webhooks", "allow", "127.0.0.1", "--by", "ops@example.com")
    assert added.exit_code == 0 and added.output == "Allowed 127.0.0.1.\n"
    assert cli("webhooks", "allow", "*.Example.COM").output == "Allowed *.example.com.\n"
    assert cli("webhooks", "allow", "127.0.0.1").output == "127.0.0.1 was already allowed.\n"
    listed = cli("webhooks", "list").output.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["*.example.com", listed[0].split("\t")[1]],
                                                         ["127.0.0.1", "ops@example.com"]]
    assert listed[0].split("\t")[1].startswith("cli")
    bad = cli("webhooks", "allow", "https://crm.example.com/hook")
    assert bad.exit_code == 1 and "is a URL, not a host name" in bad.stderr
    assert "journeys webhooks allow crm.example.com" in bad.stderr and "Traceback" not in bad.output

    setup(engine_app, webhook("crm", hooks.url(), "hello"))
    post(engine_app, event("order_placed", "first@example.com"))
    work(engine_app)
    assert hooks.box.count() == 1  # allowed through the CLI
    assert cli("webhooks", "disallow", "127.0.0.1").output == "Disallowed 127.0.0.1.\n"
    missing = cli("webhooks", "disallow", "127.0.0.1")
    assert missing.exit_code == 1 and "is not on the webhook allow-list" in missing.stderr
    with engine_app.app_context():
        assert [h.pattern for h in db.session.scalars(select(WebhookHost))] == ["*.example.com"]
    post(engine_app, event("order_placed", "second@example.com"))
    work(engine_app)
    assert hooks.box.count() == 1  # refused now
    assert "webhook calls failed:          1" in cli("status").output
