"""The complaint guard: a journey at 0.1% complaints warns, at 0.3% pauses itself and tells the
admins; small samples say nothing; counting restarts after an admin acts."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app import clock
from app.db import db
from app.models import AuditEntry, Contact, Enrollment, Journey, JourneyAlert, JourneyStatus, Message
from app.services import complaint_guard, workspace
from tests.consent_support import T0
from tests.engine_support import tick
from tests.factories import published_journey


def journey_with_sends(application: Any, sent: int, complained: int, name: str = "Winter sale") -> int:
    """A live journey with `sent` marketing messages sent in the last day, `complained` of them reported."""
    with application.app_context(), db.transaction() as s:
        version = published_journey(s, name=name)
        contact = Contact(email=f"{name.lower().replace(' ', '-')}@example.com", attributes={}, tags=[],
                          created_at=T0, updated_at=T0)
        s.add(contact)
        s.flush()
        enrollment = Enrollment(journey_id=version.journey_id, version_id=version.id, contact_id=contact.id,
                                status="completed", node=None, state={}, step=1, entered_at=T0, updated_at=T0)
        s.add(enrollment)
        s.flush()
        rows = [{"key": f"{enrollment.id}:{name}:{n}", "contact_id": contact.id, "enrollment_id": enrollment.id,
                 "category": "marketing", "status": "complained" if n < complained else "sent", "attempts": 1,
                 "to_email": contact.email, "subject": "", "created_at": T0, "updated_at": T0,
                 "sent_at": T0 - timedelta(hours=1)} for n in range(sent)]
        s.execute(Message.__table__.insert(), rows)
        return version.journey_id


def status_of(application: Any, journey_id: int) -> JourneyStatus:
    with application.app_context():
        return db.session.get(Journey, journey_id).status


def test_one_complaint_in_ten_sends_does_not_pause(app):
    clock.set_source(lambda: T0)
    journey_id = journey_with_sends(app, sent=10, complained=1)
    with app.app_context(), db.transaction() as s:
        assert complaint_guard.check(s, T0) == []
    assert status_of(app, journey_id) == JourneyStatus.active


def test_warning_at_a_tenth_of_a_percent_and_pause_at_three_tenths(app, client, login, caplog):
    clock.set_source(lambda: T0)
    warned = journey_with_sends(app, sent=2000, complained=3, name="Warned")   # 0.15%
    paused = journey_with_sends(app, sent=2000, complained=6, name="Paused")   # 0.30%
    fine = journey_with_sends(app, sent=2000, complained=1, name="Fine")       # 0.05%
    with caplog.at_level("WARNING"):
        tick(app)  # the guard runs on the reconcile tick of tick()
    assert status_of(app, warned) == JourneyStatus.active
    assert status_of(app, paused) == JourneyStatus.paused
    assert status_of(app, fine) == JourneyStatus.active
    with app.app_context():
        alerts = {a.journey_id: a for a in db.session.scalars(select(JourneyAlert))}
        assert set(alerts) == {warned, paused}
        assert (alerts[warned].level, alerts[paused].level) == ("warning", "paused")
        assert alerts[paused].rate == 0.3 and alerts[paused].complaints == 6 and alerts[paused].sent == 2000
        actions = {(e.action, e.target) for e in db.session.scalars(select(AuditEntry))}
        assert ("journey.auto_pause", f"journey:{paused}") in actions
        assert ("journey.pause", f"journey:{paused}") in actions  # through the journeys service, as an admin would
        assert ("journey.complaint_warning", f"journey:{warned}") in actions
    assert any("paused: complaint rate 0.300%" in r.getMessage() for r in caplog.records)
    login("admin")
    page = client.get("/settings/").get_data(as_text=True)  # any page: the banner is on every one
    assert "Paused</strong>" in page and "paused itself" in page and "Warned</strong>" in page
    tick(app)  # a second pass raises nothing new
    with app.app_context():
        assert len(db.session.scalars(select(JourneyAlert)).all()) == 2


def test_a_viewer_sees_no_banner_and_an_admin_dismisses_it(app, client, login):
    clock.set_source(lambda: T0)
    journey_with_sends(app, sent=1000, complained=2, name="Noisy")
    with app.app_context(), db.transaction() as s:
        [alert] = complaint_guard.check(s, T0)
        ident = alert.id
    login("viewer", "v@example.com")
    assert "Noisy</strong>" not in client.get("/contacts").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": __import__("tests.conftest", fromlist=["page_csrf"]).page_csrf(client)})
    login("admin")
    from tests.conftest import page_csrf

    resp = client.post(f"/settings/deliverability/alerts/{ident}/clear",
                       data={"csrf_token": page_csrf(client, "/settings/deliverability/"), "next": "//evil.example/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/settings/deliverability/")
    assert "Noisy</strong>" not in client.get("/settings/").get_data(as_text=True)
    with app.app_context(), db.transaction() as s:
        assert complaint_guard.check(s, T0 + timedelta(minutes=1)) == []  # counting restarted at the dismissal


def test_resuming_a_paused_journey_starts_the_count_afresh(app):
    clock.set_source(lambda: T0)
    journey_id = journey_with_sends(app, sent=1000, complained=5, name="Resumed")
    with app.app_context(), db.transaction() as s:
        complaint_guard.check(s, T0)
    assert status_of(app, journey_id) == JourneyStatus.paused
    with app.app_context(), db.transaction() as s:
        from app.services import journeys

        journeys.resume_journey(s, s.get(Journey, journey_id), user=None, now=T0 + timedelta(minutes=5), by="admin")
    with app.app_context(), db.transaction() as s:
        assert complaint_guard.check(s, T0 + timedelta(minutes=10)) == []
    assert status_of(app, journey_id) == JourneyStatus.active


def test_the_thresholds_and_sample_come_from_settings(app):
    clock.set_source(lambda: T0)
    journey_id = journey_with_sends(app, sent=50, complained=1, name="Small")  # 2%
    with app.app_context(), db.transaction() as s:
        assert complaint_guard.check(s, T0) == []  # under the default sample of 1,000
        workspace.update(s, {"complaint_min_sample": 50, "complaint_pause_percent": 5.0, "complaint_warn_percent": 1.0},
                         actor="test", now=T0)
    with app.app_context(), db.transaction() as s:
        [alert] = complaint_guard.check(s, T0)
        assert alert.level == "warning"
    assert status_of(app, journey_id) == JourneyStatus.active


def test_the_settings_form_refuses_bad_numbers_and_a_warning_above_the_pause(app, client, login):
    login("admin")
    from tests.conftest import page_csrf

    csrf = page_csrf(client, "/settings/deliverability/")
    base = {"csrf_token": csrf, "consent_wording": "v2", "soft_bounce_limit": "3", "soft_bounce_days": "14",
            "complaint_warn_percent": "0.1", "complaint_pause_percent": "0.3", "complaint_min_sample": "1000",
            "complaint_window_days": "30"}
    for change, field in (({"soft_bounce_limit": "three"}, "Write a number"),
                          ({"complaint_warn_percent": "0.5"}, "below the pause level"),
                          ({"soft_bounce_days": "0"}, "greater than or equal to 1")):
        resp = client.post("/settings/deliverability/consent", data={**base, **change})
        assert resp.status_code == 422 and field in resp.get_data(as_text=True), change
    with app.app_context():
        assert workspace.current(db.session).consent_wording == "v1"  # nothing was saved
    ok = client.post("/settings/deliverability/consent", data={**base, "double_opt_in": "1", "doi_webhook": "0"})
    assert ok.status_code == 302
    with app.app_context():
        ws = workspace.current(db.session)
        assert ws.double_opt_in and ws.double_opt_in_sources == {"webhook": False} and ws.consent_wording == "v2"
