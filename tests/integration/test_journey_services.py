"""The services the UI builds on (notes: contracts), where the API does not reach them: duplicate,
restore a version, the impact of a publish, archived templates, previews of unsaved sources."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.db import db
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import AuditEntry
from app.services import journeys, simulation, templates
from journeys.rendering import TemplateSource
from tests.engine_support import MJML_BODY, chain, send, wait
from tests.factories import contact, waiting

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
GRAPH = chain("signed_up", send("hello", "welcome"), wait("pause", "P1D"), send("later", "welcome"))


@pytest.fixture
def s(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        with db.transaction() as session:
            templates.create_template(session, templates.parse({
                "slug": "welcome", "subject": "Hi {{ contact.first_name }}", "mjml": MJML_BODY.format(body="")}),
                user_id=None, now=T0)
            yield session


def test_duplicate_restore_and_publish_impact(s):
    journey = journeys.create_journey(s, name="Welcome", graph=GRAPH, user_id=None, now=T0)
    journeys.publish_journey(s, journey, user=None, now=T0)
    person = contact(s, "a@example.com")
    waiting(s, journeys.live_version(s, journey), person, T0, node="pause")
    changed = copy.deepcopy(GRAPH)
    changed["nodes"].insert(3, {"id": "extra", "type": "wait", "config": {"duration": "PT1H"}})
    changed["edges"] = [e for e in changed["edges"] if e["from"] != "pause"] + [
        {"from": "pause", "to": "extra"}, {"from": "extra", "to": "later"}]
    changed["nodes"][1]["config"]["category"] = "marketing"
    changed["nodes"][2]["config"]["duration"] = "P2D"
    journeys.update_draft(s, journey, graph=changed, user_id=None, now=T0)
    impact = journeys.publish_impact(s, journey)
    assert impact.live_version == 1 and impact.move == {"pause": 1} and impact.stay == {}
    assert (impact.added, impact.removed, impact.changed) == (["extra"], [], ["pause"])
    assert impact.report.ok
    version = journeys.publish_journey(s, journey, user=None, migrate_waiting=True, now=T0)
    assert version.number == 2
    restored = journeys.restore_version(s, journey, 1, user_id=None, now=T0)
    assert restored.draft == GRAPH and journeys.live_version(s, journey).number == 2
    with pytest.raises(NotFound):
        journeys.restore_version(s, journey, 9, user_id=None, now=T0)
    copied = journeys.duplicate_journey(s, journey, user_id=None, now=T0)
    assert copied.id != journey.id and copied.name == "Copy of Welcome" and copied.draft == GRAPH
    assert copied.status.value == "draft"
    actions = set(s.scalars(select(AuditEntry.action)))
    assert {"journey.create", "journey.update", "journey.publish", "journey.restore", "journey.duplicate"} <= actions


def test_lifecycle_wrong_states_are_conflicts(s):
    journey = journeys.create_journey(s, name="W", graph=GRAPH, user_id=None, now=T0)
    with pytest.raises(Conflict):
        journeys.resume_journey(s, journey, user=None, now=T0)
    assert journeys.archive_journey(s, journey, user=None, now=T0) == 0
    with pytest.raises(Conflict):
        journeys.archive_journey(s, journey, user=None, now=T0)


def test_archived_templates_leave_lists_and_validation(s):
    welcome = templates.get_template(s, "welcome")
    journey = journeys.create_journey(s, name="W", graph=GRAPH, user_id=None, now=T0)
    assert journeys.validate_draft(s, journey).ok
    templates.set_archived(s, welcome, True, user_id=None, now=T0)
    assert templates.list_templates(s) == [] and len(templates.list_templates(s, include_archived=True)) == 1
    assert {p.code for p in journeys.validate_draft(s, journey).errors} == {"template.unknown"}
    assert "welcome" not in simulation.database_templates(s)


def test_update_template_versions_and_unchanged_content(s):
    welcome = templates.get_template(s, "welcome")
    first = templates.latest_version(s, welcome)
    same = templates.update_template(s, welcome, templates.as_input(welcome, first), user_id=None, now=T0)
    assert same.id == first.id
    data = templates.as_input(welcome, first).model_copy(update={"subject": "Hello"})
    second = templates.update_template(s, welcome, data, user_id=None, now=T0)
    assert second.number == 2 and [v.number for v in templates.versions_of(s, welcome)] == [2, 1]
    with pytest.raises(ValidationFailed):
        templates.update_template(s, welcome, data.model_copy(update={"slug": "other"}), user_id=None, now=T0)


def test_a_preview_of_an_unsaved_source(s, settings):
    email = templates.render_preview(s, TemplateSource("Hi {{ contact.first_name }}", MJML_BODY.format(body="")),
                                     contact=None, sample={"contact": {"email": "jo@example.com",
                                                                       "attributes": {"first_name": "Jo"}}},
                                     settings=settings, now=T0)
    assert email.subject == "Hi Jo" and "Hi Jo," in email.text
    with pytest.raises(ValidationFailed):
        templates.render_preview(s, TemplateSource("x", "<mjml>"), contact=None, sample=None, settings=settings)


def test_simulation_run_needs_a_start_without_events(s):
    from journeys.errors import SimulationError

    with pytest.raises(SimulationError):
        simulation.run(GRAPH, contact={"email": "a@example.com"}, events=None, start=None, until=None,
                       templates=None, key="k")
