"""Set-based writes store what the ORM would; `among` matches a batch's ids or digests in one parameter."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import bindparam, insert, select, text, update

from app.db import db
from app.models import Contact, SubscriptionStatus
from app.services.bulk import among, executemany

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
