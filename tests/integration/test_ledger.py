"""The message ledger never loses a message and never silently sends marketing twice."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import db
from app.models import Message
from app.services import ledger
from tests.factories import T0, contact


def _messages(app, categories: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        with db.transaction() as s:
            c = contact(s, "m@example.com")
            rows = [Message(key=f"k{i}", contact_id=c.id, category=cat, to_email=c.email,
                            created_at=T0, updated_at=T0) for i, cat in enumerate(categories)]
            s.add_all(rows)
            s.flush()
            return [r.id for r in rows]


def _status(app, mid: int) -> Message:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(Message).where(Message.id == mid))


def test_a_leased_message_cannot_be_leased_twice(app):
    ids = _messages(app, ["marketing", "marketing"])
    with app.app_context():
        first = ledger.lease(db.session, ids, T0)
        second = ledger.lease(db.session, ids, T0)
    assert len(first) == 2 and second == []
    assert _status(app, ids[0]).status == "sending" and _status(app, ids[0]).attempts == 1


def test_an_expired_lease_makes_marketing_ambiguous_and_requeues_transactional(app):
    marketing, transactional = _messages(app, ["marketing", "transactional"])
    with app.app_context():
        ledger.lease(db.session, [marketing, transactional], T0, seconds=60)
        assert ledger.reconcile(db.session, T0 + timedelta(seconds=30)) == {"ambiguous": 0, "requeued": 0}
        result = ledger.reconcile(db.session, T0 + timedelta(seconds=61))
    assert result == {"ambiguous": 1, "requeued": 1}
    assert _status(app, marketing).status == "ambiguous"
    assert "may or may not" in _status(app, marketing).last_error
    assert _status(app, transactional).status == "queued"
    with app.app_context():
        assert ledger.due_for_delivery(db.session, T0 + timedelta(seconds=61)) == [transactional]


def test_transient_failures_back_off_exponentially_then_fail(app):
    (mid,) = _messages(app, ["marketing"])
    now = T0
    delays = []
    with app.app_context():
        s = db.session
        while True:
            (msg,) = ledger.lease(s, [mid], now)
            retry_at = ledger.retry_later(s, msg, now, "421 try later")
            s.commit()
            if retry_at is None:
                break
            delays.append((retry_at - now).total_seconds())
            assert ledger.lease(s, [mid], now) == []  # not before its time
            assert _status(app, mid).next_attempt_at.replace(tzinfo=None) == retry_at.replace(tzinfo=None)
            now = retry_at
    assert delays == [30, 60, 120, 240, 480]
    final = _status(app, mid)
    assert final.status == "failed" and final.attempts == ledger.MAX_ATTEMPTS
    assert "gave up after 6 attempts: 421 try later" in final.last_error
