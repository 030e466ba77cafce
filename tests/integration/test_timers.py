"""Due enrollments are found in SQL and claimed in batches, once, and again after a lease runs out."""
from __future__ import annotations

from datetime import timedelta

from app.db import db
from app.services import timers
from tests.factories import T0, contact, published_journey, waiting


def _setup(app, n_due: int, n_later: int) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        with db.transaction() as s:
            version = published_journey(s)
            for i in range(n_due):
                waiting(s, version, contact(s, f"due{i}@example.com"), T0 + timedelta(minutes=i))
            for i in range(n_later):
                waiting(s, version, contact(s, f"later{i}@example.com"), T0 + timedelta(days=2))


def test_due_enrollments_are_claimed_in_batches_oldest_first_and_only_once(app):
    _setup(app, n_due=25, n_later=5)
    now = T0 + timedelta(hours=1)
    with app.app_context():
        s = db.session
        assert timers.due_unclaimed(s, now) == 25 and timers.any_due(s, now)
        [first] = timers.claim_batches(s, now, batches=1, batch_size=10)
        [second] = timers.claim_batches(s, now, batches=1, batch_size=10)
        [third] = timers.claim_batches(s, now, batches=1, batch_size=10)
        assert timers.claim_batches(s, now, batches=1, batch_size=10) == []
        claimed = first.ids + second.ids + third.ids
        assert len(first.ids) == 10 and len(third.ids) == 5
        assert len(set(claimed)) == 25
        assert timers.due_unclaimed(s, now) == 0 and not timers.any_due(s, now)


def test_a_tick_claims_several_batches_at_once_oldest_first_and_only_once(app):
    from sqlalchemy import select

    from app.models import Enrollment

    _setup(app, n_due=25, n_later=5)
    now = T0 + timedelta(hours=1)
    with app.app_context():
        s = db.session
        claims = timers.claim_batches(s, now, batches=4, batch_size=10)
        assert [len(c.ids) for c in claims] == [10, 10, 5]
        claimed = [i for c in claims for i in c.ids]
        by_wake = list(s.scalars(select(Enrollment.id).where(Enrollment.wake_at <= now).order_by(Enrollment.wake_at)))
        assert claimed == by_wake
        assert timers.claim_batches(s, now, batches=4, batch_size=10) == []
        assert timers.due_unclaimed(s, now) == 0


def test_an_expired_claim_is_found_again(app):
    _setup(app, n_due=3, n_later=0)
    now = T0 + timedelta(hours=1)
    with app.app_context():
        s = db.session
        [claim] = timers.claim_batches(s, now, batches=1, lease=timedelta(seconds=60))
        assert len(claim.ids) == 3
        assert timers.claim_batches(s, now + timedelta(seconds=30), batches=1) == []
        [again] = timers.claim_batches(s, now + timedelta(seconds=61), batches=1)
        assert sorted(again.ids) == sorted(claim.ids)  # a dead worker's batch is not lost


def test_concurrent_sweepers_never_claim_the_same_enrollment(app):
    """Two sessions claim at once: on Postgres SKIP LOCKED keeps them apart."""
    _setup(app, n_due=40, n_later=0)
    now = T0 + timedelta(hours=1)
    maker = app.extensions["db_sessionmaker"]
    a, b = maker(), maker()
    try:
        [first] = timers.claim_batches(a, now, batches=1, batch_size=30)
        [second] = timers.claim_batches(b, now, batches=1, batch_size=30)
        assert len(first.ids) == 30 and len(second.ids) == 10
        assert not set(first.ids) & set(second.ids)
    finally:
        a.close()
        b.close()


def test_a_sweeper_skips_rows_another_is_claiming_right_now(app):
    import pytest
    from sqlalchemy import select

    from app.models import Enrollment

    if app.extensions["db_engine"].dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; row locks are a Postgres matter")
    _setup(app, n_due=40, n_later=0)
    now = T0 + timedelta(hours=1)
    maker = app.extensions["db_sessionmaker"]
    a, b = maker(), maker()
    try:
        held = list(a.scalars(select(Enrollment.id).order_by(Enrollment.wake_at).limit(30)
                              .with_for_update()))  # a is mid-claim, transaction open
        [claim] = timers.claim_batches(b, now, batches=1, batch_size=100)
        assert len(claim.ids) == 10 and not set(claim.ids) & set(held)
    finally:
        a.rollback()
        a.close()
        b.close()
