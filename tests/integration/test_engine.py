"""The engine end to end: events enroll contacts, workers advance them, mail reaches a real SMTP server once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from app import clock, create_app
from app.db import db
from app.models import Contact, Enrollment, EnrollmentStep, Event, Message, SubscriptionStatus
from tests.engine_support import (SMTPServer, chain, event, journey, post, run_until_quiet, send, template,
                                  tick, wait, work)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def engine_app(app, settings, smtp):  # type: ignore[no-untyped-def]
    """The app as a worker runs it, sending to the in-process SMTP server."""
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    yield application
    application.extensions["db_engine"].dispose()


def setup(application: Any, graph: dict[str, Any], *templates: tuple[str, str]) -> None:
    with application.app_context():
        with db.transaction() as s:
            for slug, subject in templates:
                template(s, slug, subject, "<mj-text>Your {{ event['items'][0].title }} is waiting</mj-text>"
                         if "items" in subject else "<mj-text>Hello</mj-text>", now=T0)
            journey(s, graph, now=T0)


def count(application: Any, model: Any, *where: Any) -> int:
    with application.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_an_event_sends_one_email_with_both_parts_and_the_headers(engine_app, smtp):
    setup(engine_app, chain("signed_up", send("hello", "welcome")), ("welcome", "Welcome, {{ contact.first_name }}"))
    post(engine_app, event("signed_up", "klara@example.com"))
    work(engine_app)
    [mail] = smtp.box.to("klara@example.com")
    assert mail["Subject"] == "Welcome, Klara"
    assert mail["From"] == engine_app.config["SETTINGS"].mail_from
    assert mail["Message-ID"].endswith("@localhost>")
    assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/u/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_body(("plain",)).get_content().startswith("Hi Klara,")
    assert "Hi Klara," in mail.get_body(("html",)).get_content()
    with engine_app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "sent" and message.subject == "Welcome, Klara" and message.attempts == 1
        steps = [s.outcome for s in db.session.scalars(select(EnrollmentStep).order_by(EnrollmentStep.id))]
        assert steps == ["entered", "sent", "completed"]


def test_the_same_event_twice_makes_one_enrollment_and_one_email(engine_app, smtp):
    setup(engine_app, chain("signed_up", send("hello", "welcome")), ("welcome", "Welcome"))
    first = post(engine_app, event("signed_up", "ana@example.com", key="shop-123"))
    again = post(engine_app, event("signed_up", "ana@example.com", key="shop-123"))
    work(engine_app)
    assert first == again
    assert count(engine_app, Event) == 1 and count(engine_app, Enrollment) == 1
    assert len(smtp.box.to("ana@example.com")) == 1


def test_a_wait_fires_on_the_scheduler_tick_and_the_email_goes_once(engine_app, smtp):
    setup(engine_app, chain("signed_up", wait("pause", "P1D"), send("tips", "tips")), ("tips", "Tips"))
    post(engine_app, event("signed_up", "ola@example.com"))
    work(engine_app)
    assert smtp.box.count() == 0
    run_until_quiet(engine_app, T0 + timedelta(hours=23))
    assert smtp.box.count() == 0
    run_until_quiet(engine_app, T0 + timedelta(days=1, seconds=1))
    run_until_quiet(engine_app, T0 + timedelta(days=2))
    assert len(smtp.box.to("ola@example.com")) == 1


def test_unsubscribing_while_waiting_means_no_email(engine_app, smtp):
    setup(engine_app, chain("signed_up", wait("pause", "P1D"), send("tips", "tips")), ("tips", "Tips"))
    post(engine_app, event("signed_up", "eva@example.com"))
    work(engine_app)
    with engine_app.app_context():
        with db.transaction() as s:
            s.scalars(select(Contact)).one().subscription_status = SubscriptionStatus.unsubscribed
    run_until_quiet(engine_app, T0 + timedelta(days=2))
    assert smtp.box.count() == 0
    with engine_app.app_context():
        skipped = db.session.scalars(select(EnrollmentStep).where(EnrollmentStep.node == "tips")).one()
        assert (skipped.outcome, skipped.reason) == ("skipped", "unsubscribed")


def test_unsubscribing_after_the_step_but_before_delivery_still_stops_the_email(engine_app, smtp):
    setup(engine_app, chain("signed_up", send("hello", "welcome")), ("welcome", "Welcome"))
    post(engine_app, event("signed_up", "late@example.com"))
    with engine_app.app_context():  # process the event, but leave the delivery job queued
        from app.services import events
        events.process_pending(db.session, T0)
        with db.transaction() as s:
            s.scalars(select(Contact)).one().subscription_status = SubscriptionStatus.unsubscribed
    work(engine_app)
    run_until_quiet(engine_app, T0 + timedelta(minutes=5))
    assert smtp.box.count() == 0
    with engine_app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert (message.status, message.last_error) == ("suppressed", "unsubscribed")


def test_quiet_hours_deliver_at_the_end_of_the_window_in_the_contacts_zone(engine_app, smtp):
    graph = chain("checkout_started", send("remind", "cart"),
                  settings={"quiet_hours": {"start": "21:00", "end": "08:00"}})
    setup(engine_app, graph, ("cart", "Your {{ event['items'][0].title }} is waiting (items)"))
    evening = datetime(2026, 12, 1, 21, 30, tzinfo=timezone.utc)  # 22:30 in Warsaw
    clock.set_source(lambda: evening)
    data = event("checkout_started", "piotr@example.pl", items=[{"title": "Wool Beanie"}])
    data["contact"]["timezone"] = "Europe/Warsaw"
    post(engine_app, data)
    work(engine_app)
    run_until_quiet(engine_app, datetime(2026, 12, 2, 6, 59, tzinfo=timezone.utc))
    assert smtp.box.count() == 0
    run_until_quiet(engine_app, datetime(2026, 12, 2, 7, 0, tzinfo=timezone.utc))  # 08:00 in Warsaw
    [mail] = smtp.box.to("piotr@example.pl")
    assert mail["Subject"].startswith("Your Wool Beanie is waiting")
    with engine_app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.sent_at == datetime(2026, 12, 2, 7, 0, tzinfo=timezone.utc)


def test_contacts_waiting_finish_on_the_version_they_entered(engine_app, smtp):
    from app.models import Journey
    from app.services import versions

    setup(engine_app, chain("signed_up", wait("pause", "P1D"), send("tips", "old")), ("old", "Old tips"), ("new", "New tips"))
    post(engine_app, event("signed_up", "first@example.com"))
    work(engine_app)
    with engine_app.app_context():
        with db.transaction() as s:
            row = s.scalars(select(Journey)).one()
            impact = versions.impact(s, row, chain("signed_up", wait("pause", "P1D"), send("tips", "new")))
            assert impact.move == {"pause": 1}  # what the editor would show before publishing
            versions.publish(s, row, chain("signed_up", wait("pause", "P1D"), send("tips", "new")), now=T0)
    post(engine_app, event("signed_up", "second@example.com"))
    work(engine_app)
    run_until_quiet(engine_app, T0 + timedelta(days=1, minutes=1))
    assert [m["Subject"] for m in smtp.box.to("first@example.com")] == ["Old tips"]
    assert [m["Subject"] for m in smtp.box.to("second@example.com")] == ["New tips"]


def test_a_permanent_refusal_fails_the_message_at_once_and_a_temporary_one_retries(engine_app, smtp):
    setup(engine_app, chain("signed_up", send("hello", "welcome")), ("welcome", "Welcome"))
    smtp.box.refuse_rcpt = "550 5.1.1 no such user"
    post(engine_app, event("signed_up", "ghost@example.com"))
    work(engine_app)
    smtp.box.refuse_rcpt = "451 4.3.0 try again later"
    post(engine_app, event("signed_up", "busy@example.com"))
    work(engine_app)
    with engine_app.app_context():
        rows = {m.to_email: m for m in db.session.scalars(select(Message))}
        assert rows["ghost@example.com"].status == "failed" and "550" in rows["ghost@example.com"].last_error
        assert rows["busy@example.com"].status == "queued" and rows["busy@example.com"].next_attempt_at is not None
    smtp.box.refuse_rcpt = None
    run_until_quiet(engine_app, T0 + timedelta(minutes=1))
    assert len(smtp.box.to("busy@example.com")) == 1 and smtp.box.to("ghost@example.com") == []


def test_redis_flushed_while_contacts_wait_loses_nothing(engine_app, smtp):
    n = 1000  # as many as the issue names: each wakes on time and gets exactly one email
    setup(engine_app, chain("signed_up", wait("pause", "PT1H"), send("tips", "tips")), ("tips", "Tips"))
    for i in range(n):
        post(engine_app, event("signed_up", f"c{i}@example.com"))
    work(engine_app)
    assert count(engine_app, Enrollment, Enrollment.status == "waiting") == n
    engine_app.extensions["redis"].flushall()
    run_until_quiet(engine_app, T0 + timedelta(hours=1))
    assert smtp.box.count() == n
    assert len({r.recipients[0] for r in smtp.box.received}) == n
    assert count(engine_app, Message, Message.status == "sent") == n


def test_a_bad_event_is_refused_and_changes_nothing(engine_app):
    from app.errors import ValidationFailed
    from app.services import events

    for bad, field in [({"event": "x", "contact": {"email": "not an address"}}, "contact.email"),
                       ({"event": "x", "contact": {}}, "contact"),
                       ({"event": "", "contact": {"email": "a@example.com"}}, "event"),
                       ({"event": "x", "contact": {"email": "a@example.com"}, "occurred_at": "soon"}, "occurred_at"),
                       ({"event": "x", "contact": {"email": "a@example.com", "timezone": "Mars/Base"}}, "contact.timezone"),
                       ({"event": "x", "contact": {"email": "a@example.com"}, "extra": 1}, "extra")]:
        with pytest.raises(ValidationFailed) as caught:
            events.parse(bad)
        assert caught.value.field == field, (bad, caught.value.detail)
    assert count(engine_app, Event) == 0


def test_pause_holds_contacts_and_resume_sends_late_but_outside_quiet_hours(engine_app, smtp):
    from app.models import Journey
    from app.services import lifecycle

    graph = chain("signed_up", wait("pause", "PT1H"), send("tips", "tips"),
                  settings={"quiet_hours": {"start": "21:00", "end": "08:00"}, "timezone": "UTC"})
    setup(engine_app, graph, ("tips", "Tips"))
    post(engine_app, event("signed_up", "held@example.com"))
    work(engine_app)
    with engine_app.app_context():
        with db.transaction() as s:
            lifecycle.pause(s, s.scalars(select(Journey)).one(), T0)
    run_until_quiet(engine_app, T0 + timedelta(hours=12))  # 22:00: overdue, but paused
    assert smtp.box.count() == 0
    with engine_app.app_context():
        with db.transaction() as s:
            lifecycle.resume(s, s.scalars(select(Journey)).one(), T0 + timedelta(hours=12))
    run_until_quiet(engine_app, T0 + timedelta(hours=12, seconds=1))  # resumed inside quiet hours
    assert smtp.box.count() == 0
    run_until_quiet(engine_app, datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc))
    assert len(smtp.box.to("held@example.com")) == 1


def test_archive_exits_everyone_with_a_reason(engine_app, smtp):
    from app.models import Journey
    from app.services import lifecycle

    setup(engine_app, chain("signed_up", wait("pause", "PT1H"), send("tips", "tips")), ("tips", "Tips"))
    for i in range(3):
        post(engine_app, event("signed_up", f"a{i}@example.com"))
    work(engine_app)
    with engine_app.app_context():
        with db.transaction() as s:
            assert lifecycle.archive(s, s.scalars(select(Journey)).one(), T0) == 3
    run_until_quiet(engine_app, T0 + timedelta(hours=2))
    assert smtp.box.count() == 0
    assert count(engine_app, Enrollment, Enrollment.exit_reason == "journey_archived") == 3
    post(engine_app, event("signed_up", "later@example.com"))
    work(engine_app)
    assert count(engine_app, Enrollment) == 3  # an archived journey enrolls nobody


def test_traces_of_long_finished_enrollments_are_pruned_and_recent_ones_kept(engine_app, smtp):
    from app.services import retention

    setup(engine_app, chain("signed_up", send("hello", "welcome")), ("welcome", "Welcome"))
    post(engine_app, event("signed_up", "old@example.com"))
    work(engine_app)
    clock.set_source(lambda: T0 + timedelta(days=100))
    post(engine_app, event("signed_up", "new@example.com"))
    work(engine_app)
    with engine_app.app_context():
        assert retention.prune_traces(db.session, T0 + timedelta(days=181), days=180) == 3
        left = {db.session.get(Enrollment, s.enrollment_id).contact_id for s in db.session.scalars(select(EnrollmentStep))}
        assert len(left) == 1 and retention.prune_traces(db.session, T0 + timedelta(days=181), days=0) == 0
    assert count(engine_app, Enrollment) == 2  # the enrollments themselves stay: counts stay right


def test_update_contact_and_conditions_change_the_contact_and_the_path(engine_app, smtp):
    graph = {"schema": 1, "settings": {"exit_events": []}, "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "order_placed"}},
        {"id": "tag", "type": "update_contact", "config": {"set": {"vip": True}, "add_tags": ["buyer"]}},
        {"id": "big", "type": "condition", "config": {"rule": {"field": "event.total", "op": "gte", "value": 100}}},
        {"id": "thanks", "type": "send", "config": {"template": "thanks", "category": "transactional"}},
        {"id": "end", "type": "exit"}],
        "edges": [{"from": "start", "to": "tag"}, {"from": "tag", "to": "big"},
                  {"from": "big", "to": "thanks", "port": "yes"}, {"from": "big", "to": "end", "port": "no"},
                  {"from": "thanks", "to": "end"}]}
    setup(engine_app, graph, ("thanks", "Thanks"))
    post(engine_app, event("order_placed", "big@example.com", total=150))
    post(engine_app, event("order_placed", "small@example.com", total=20))
    work(engine_app)
    assert len(smtp.box.to("big@example.com")) == 1 and smtp.box.to("small@example.com") == []
    with engine_app.app_context():
        contacts = {c.email: c for c in db.session.scalars(select(Contact))}
        assert contacts["small@example.com"].attributes["vip"] is True
        assert contacts["small@example.com"].tags == ["buyer"]
        assert contacts["big@example.com"].orders_count == 1 and float(contacts["big@example.com"].total_spent) == 150


@pytest.mark.slow
def test_redis_down_for_a_while_loses_no_event_timer_or_message(app, settings, smtp, tmp_path):
    """Its own Redis, stopped and started again: the web path stores events, the rest waits for it."""
    from app import embedded_redis

    folder = tmp_path / "redis"
    redis_proc = embedded_redis.start(folder)
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0,
                                                     redis_url=f"unix://{folder / 'redis.sock'}"))
    clock.set_source(lambda: T0)  # the wait runs from T0, not from the day the suite runs
    try:
        setup(application, chain("signed_up", wait("pause", "PT1H"), send("tips", "tips")), ("tips", "Tips"))
        post(application, event("signed_up", "before@example.com"))
        work(application)
        redis_proc.terminate()
        redis_proc.wait(10)
        for i in range(5):  # the API keeps accepting: events are stored before anything touches Redis
            post(application, event("signed_up", f"during{i}@example.com", key=f"k{i}"))
        assert application.test_client().get("/login").status_code == 200  # the web UI stays up
        assert count(application, Event, Event.processed_at.is_(None)) == 5
        redis_proc = embedded_redis.start(folder)  # back, empty: no job survived
        run_until_quiet(application, T0 + timedelta(hours=2))  # the first wakes; the others enter
        assert count(application, Event, Event.processed_at.is_(None)) == 0 and smtp.box.count() == 1
        run_until_quiet(application, T0 + timedelta(hours=3, seconds=1))
        assert smtp.box.count() == 6 and len({r.recipients[0] for r in smtp.box.received}) == 6
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
        application.extensions["db_engine"].dispose()


def test_redis_lost_with_jobs_in_flight_loses_and_doubles_nothing(app, settings, smtp, tmp_path):
    """Under load: advance jobs and delivery jobs are queued when Redis dies without saving
    (SIGKILL, no dump), events keep arriving; once it is back, empty, every contact gets its
    one email, none twice, from what the database holds."""
    import signal

    from app import embedded_redis

    folder = tmp_path / "redis"
    redis_proc = embedded_redis.start(folder)
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0,
                                                     redis_url=f"unix://{folder / 'redis.sock'}"))
    try:
        setup(application, chain("signed_up", wait("pause", "PT1H"), send("tips", "tips")), ("tips", "Tips"))
        run_until_quiet(application, T0, rounds=0)
        for i in range(20):
            post(application, event("signed_up", f"a{i}@example.com"))
        work(application)
        clock.set_source(lambda: T0 + timedelta(minutes=30))
        for i in range(20):
            post(application, event("signed_up", f"b{i}@example.com"))
        work(application)
        run_until_quiet(application, T0 + timedelta(hours=1, seconds=1), rounds=0)
        tick(application)
        work(application, only=("engine",))  # group a advanced: 20 messages queued, their delivery jobs in Redis
        assert count(application, Message, Message.status == "queued") == 20
        clock.set_source(lambda: T0 + timedelta(hours=1, minutes=30, seconds=1))
        tick(application)  # group b claimed: their advance jobs in Redis
        assert count(application, Enrollment, Enrollment.claimed_until.is_not(None)) == 20
        redis_proc.send_signal(signal.SIGKILL)
        redis_proc.wait(10)
        (folder / "dump.rdb").unlink(missing_ok=True)
        for i in range(5):
            post(application, event("signed_up", f"during{i}@example.com", key=f"d{i}"))
        assert application.test_client().get("/login").status_code == 200  # the web UI stays up
        redis_proc = embedded_redis.start(folder)  # back, empty: every queued job is gone
        assert not application.extensions["redis"].keys("rq:job:*")
        run_until_quiet(application, T0 + timedelta(hours=1, minutes=37))  # past the claims' lease
        assert smtp.box.count() == 40
        run_until_quiet(application, T0 + timedelta(hours=3))
        recipients = [r.recipients[0] for r in smtp.box.received]
        assert len(recipients) == 45 and len(set(recipients)) == 45, "each contact once, none lost"
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
        application.extensions["db_engine"].dispose()
