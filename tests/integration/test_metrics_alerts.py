"""/metrics shows what an operator alerts on, and the example alert rules name only metrics it exports."""
from __future__ import annotations

import re
from datetime import timedelta

import yaml
from prometheus_client.parser import text_string_to_metric_families

from app import clock, gauges
from app.db import db
from app.scheduler import Scheduler
from tests.conftest import ROOT
from tests.consent_support import contact, sent_message
from tests.factories import T0, published_journey, waiting

ALERTS = ROOT / "docs" / "deploy" / "alerts.yml"
def families(client) -> dict[str, dict[tuple, float]]:  # type: ignore[no-untyped-def]
    """Sample name (histograms' _bucket, counters' _total included) → labels → value."""
    text = client.get("/metrics").get_data(as_text=True)
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_gauges_show_due_work_stuck_messages_the_scheduler_and_delivery_ratios(app, client, rconn):
    clock.set_source(lambda: T0)
    with app.app_context():
        with db.transaction() as s:
            version = published_journey(s)
            for i in range(3):
                waiting(s, version, contact(s, f"due{i}@example.com"), T0 - timedelta(minutes=5))
            waiting(s, version, contact(s, "later@example.com"), T0 + timedelta(days=1))
            someone = contact(s, "mail@example.com")
            day = [sent_message(s, someone, f"m{i}", at=T0 - timedelta(hours=2)) for i in range(20)]
            day[0].status, day[1].status = "bounced", "complained"
            sent_message(s, someone, "old", at=T0 - timedelta(days=3))  # outside the day
            sent_message(s, someone, "gave-up").status = "failed"
            sent_message(s, someone, "unknown").status = "ambiguous"
        before = families(client)
        assert "journeys_bounce_ratio_24h" not in before  # not computed yet: absent, not a false zero
        assert gauges.publish_delivery_ratios(db.session, rconn, clock.now()) == \
            {"sent": 20, "bounced": 1, "complained": 1}
    Scheduler(rconn, []).tick()
    seen = families(client)
    assert seen["journeys_database_up"][()] == 1
    assert seen["journeys_enrollments_due_unclaimed"][()] == 3
    assert seen["journeys_messages"][(("status", "failed"),)] == 1
    assert seen["journeys_messages"][(("status", "ambiguous"),)] == 1
    assert seen["journeys_events_pending"][()] == 0
    assert 0 <= seen["journeys_scheduler_last_tick_age_seconds"][()] < 5
    assert seen["journeys_messages_sent_24h"][()] == 20
    assert seen["journeys_bounce_ratio_24h"][()] == 0.05
    assert seen["journeys_complaint_ratio_24h"][()] == 0.05
    assert seen["journeys_delivery_ratios_age_seconds"][()] < 60


def test_without_a_scheduler_the_heartbeat_gauge_says_so(client):
    assert families(client)["journeys_scheduler_last_tick_age_seconds"][()] == -1


def test_every_alert_is_well_formed_and_names_only_exported_metrics(app, client, rconn):
    with app.app_context():
        gauges.publish_delivery_ratios(db.session, rconn, clock.now())
    client.get("/healthz")
    exported = set(families(client))
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    assert len(rules) >= 12
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        named = set(re.findall(r"\bjourneys_[a-z0-9_]+", rule["expr"]))
        assert named, rule["alert"]
        for metric in named:
            assert metric in exported, f"{rule['alert']}: {metric} is not exported"
    covered = " ".join(rule["expr"] for rule in rules)
    for needed in ("journeys_queue_depth", "journeys_enrollments_due_unclaimed", 'journeys_messages{status="failed"}',
                   "journeys_bounce_ratio_24h", "journeys_complaint_ratio_24h"):
        assert needed in covered, needed
