"""Workspace settings: defaults before anything is stored, all-or-nothing updates, an audit trail."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.db import db
from app.errors import ValidationFailed
from app.models import AuditEntry, WorkspaceSetting
from app.services import workspace

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)


def test_a_fresh_workspace_reads_its_defaults(app):
    with app.app_context():
        ws = workspace.current(db.session)
    assert ws.default_timezone == "UTC" and ws.marketing_consent == "explicit"
    assert ws.default_quiet_hours is None


def test_an_update_is_stored_and_audited(app):
    with app.app_context():
        with db.transaction() as s:
            workspace.update(s, {"default_timezone": "Europe/Warsaw",
                                 "default_quiet_hours": {"start": "21:00", "end": "08:00"}},
                             actor="admin@example.com", now=NOW)
        ws = workspace.current(db.session)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.update"))
    assert ws.default_timezone == "Europe/Warsaw" and ws.default_quiet_hours.start == "21:00"
    assert entry.actor == "admin@example.com"
    assert entry.details["changed"]["default_timezone"] == ["UTC", "Europe/Warsaw"]


@pytest.mark.parametrize("changes, where", [
    ({"default_timezone": "Mars/Olympus"}, "/default_timezone"),
    ({"default_quiet_hours": {"start": "25:00", "end": "08:00"}}, "/default_quiet_hours/start"),
    ({"marketing_consent": "whatever"}, "/marketing_consent"),
    ({"no_such_setting": 1}, "/no_such_setting"),
])
def test_a_bad_value_is_refused_and_changes_nothing(app, changes, where):
    with app.app_context():
        with pytest.raises(ValidationFailed) as caught:
            with db.transaction() as s:
                workspace.update(s, {"shop_name": "Changed", **changes}, actor="a", now=NOW)
        assert where in [p.pointer for p in caught.value.errors]
        assert db.session.scalars(select(WorkspaceSetting)).all() == []
        assert workspace.current(db.session).shop_name == "Our shop"
