"""Set-based writes store what the ORM would; `among` matches a batch's ids or digests in one parameter."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, text, update

from app.db import db
from app.models import Contact, SubscriptionStatus
from app.services.bulk import among, executemany
from app.services.facts import BATCH_COLUMNS, facts_for_many

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _contacts(emails: list[str]) -> list[int]:
    db.session.execute(insert(Contact), [
        {"email": e, "attributes": {}, "tags": [], "subscription_status": SubscriptionStatus.subscribed,
         "created_at": NOW, "updated_at": NOW, "orders_count": 0, "total_spent": 0} for e in emails])
    db.session.commit()
    return list(db.session.scalars(select(Contact.id).order_by(Contact.id)))


def test_among_matches_ids_and_strings_and_nothing_for_an_empty_list(app):
    with app.app_context():
        ids = _contacts([f"m{i}@example.com" for i in range(1500)])
        wanted = set(ids[::3])
        found = set(db.session.scalars(select(Contact.id).where(among(db.session, Contact.id, wanted))))
        assert found == wanted
        emails = ["m1@example.com", "m7@example.com", "nobody@example.com"]
        assert set(db.session.scalars(select(Contact.email).where(among(db.session, Contact.email, emails)))) == {
            "m1@example.com", "m7@example.com"}
        assert db.session.scalars(select(Contact.id).where(among(db.session, Contact.id, []))).all() == []
        # Two in one statement keep their own values.
        both = select(Contact.id).where(among(db.session, Contact.id, ids[:10]),
                                        among(db.session, Contact.id, ids[5:20]))
        assert set(db.session.scalars(both)) == set(ids[5:10])


_TOUCH = update(Contact.__table__).where(Contact.__table__.c.id == bindparam("b_id")).values(
    updated_at=bindparam("updated_at"))


def test_a_bulk_write_stores_datetimes_as_the_orm_does(app):
    """SQLite keeps datetimes as text and compares them as text: one format for every writer."""
    with app.app_context():
        first, second = _contacts(["orm@example.com", "bulk@example.com"])
        at = datetime(2026, 3, 1, 12, 30, 15, 250, tzinfo=timezone.utc)
        db.session.get(Contact, first).updated_at = at
        db.session.flush()
        executemany(db.session, _TOUCH, [{"b_id": second, "updated_at": at}])
        db.session.commit()
        raw = db.session.execute(text("SELECT id, CAST(updated_at AS TEXT) FROM contacts ORDER BY id")).all()
        assert raw[0][1] == raw[1][1], raw
        assert db.session.get(Contact, second).updated_at == at
        later = db.session.scalars(select(Contact.id).where(Contact.updated_at > at)).all()
        assert later == []


def test_a_batch_reads_the_same_facts_as_the_orm(app):
    """The wake-up reads contacts with lighter types (JSON in one call, the status as text): the core
    must see the very facts it sees for the same contacts loaded as objects."""
    with app.app_context():
        rich = Contact(email="rich@example.com", attributes={"first_name": "Ola", "vip": True, "score": 3.5,
                                                              "nested": {"a": [1, 2]}},
                       tags=["b", "a"], subscription_status=SubscriptionStatus.unconfirmed, orders_count=3,
                       total_spent=Decimal("120.55"), last_order_at=NOW, timezone="Europe/Warsaw", locale="pl",
                       created_at=NOW, updated_at=NOW)
        plain = Contact(email="plain@example.com", attributes={}, tags=[], orders_count=0, total_spent=0,
                        subscription_status=SubscriptionStatus.never_subscribed, created_at=NOW, updated_at=NOW)
        db.session.add_all([rich, plain])
        db.session.commit()
        objects = facts_for_many(db.session, [rich, plain], NOW)
        rows = db.session.connection().execute(select(*BATCH_COLUMNS).order_by(Contact.id)).all()
        batch = facts_for_many(db.session, rows, NOW)
        assert batch == objects
        assert batch[rich.id].attributes["nested"] == {"a": [1, 2]} and batch[rich.id].tags == {"a", "b"}
        assert batch[rich.id].consent == {"marketing": "unconfirmed"}
        assert batch[rich.id].metrics == {"orders_count": 3, "total_spent": 120.55,
                                          "last_order_at": "2026-01-01T00:00:00+00:00"}
