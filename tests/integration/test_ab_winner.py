"""A/B splits with an automatic winner: "not enough data yet" until every variant has its sample,
then the variant most likely best wins (audit log), and every new contact gets it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import db
from app.models import AuditEntry, Journey, Message, SplitWinner
from app.services.analytics.report import journey_report
from tests.analytics_support import T0, at, click, engine_app, later, post, setup, smtp, tracked, work  # noqa: F401
from tests.engine_support import event, tick

OFFER = '<mj-text><a href="https://shop.example/{slug}">Look</a></mj-text>'


def _graph(**auto: object) -> dict:  # type: ignore[type-arg]
    split = {"variants": [{"key": "A", "weight": 50}, {"key": "B", "weight": 50}]}
    if auto:
        split["auto_winner"] = auto
    return {"schema": 1, "settings": {"exit_events": [], "reentry": "always"}, "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
        {"id": "ab", "type": "ab_split", "config": split},
        {"id": "ma", "type": "send", "config": {"template": "offer-a"}},
        {"id": "mb", "type": "send", "config": {"template": "offer-b"}},
        {"id": "end", "type": "exit"}],
        "edges": [{"from": "start", "to": "ab"}, {"from": "ab", "to": "ma", "port": "A"},
                  {"from": "ab", "to": "mb", "port": "B"}, {"from": "ma", "to": "end"}, {"from": "mb", "to": "end"}]}


def _variants(application):  # type: ignore[no-untyped-def]
    with application.app_context():
        return {m.to_email: m.variant for m in db.session.scalars(select(Message))}


def _enter(application, emails):  # type: ignore[no-untyped-def]
    for email in emails:
        post(application, event("signed_up", email))
    work(application)


def _report(application, journey_id):  # type: ignore[no-untyped-def]
    with application.app_context():
        return journey_report(db.session, db.session.get(Journey, journey_id), T0 + timedelta(days=1))


def test_the_split_waits_for_its_sample_then_sends_everybody_to_the_winner(engine_app, smtp):
    journey_id = setup(engine_app, _graph(metric="click", min_recipients=10, probability=0.9),
                       {"offer-a": OFFER.format(slug="a"), "offer-b": OFFER.format(slug="b")})
    first = [f"c{i:02d}@example.com" for i in range(50)]
    _enter(engine_app, first)
    later(10)
    variants = _variants(engine_app)
    assert set(variants.values()) == {"A", "B"}
    for n, (email, variant) in enumerate(sorted(variants.items())):  # B is the better email: most click
        if variant == "B" and n % 5 != 0 or variant == "A" and n % 9 == 0:
            click(engine_app, tracked(smtp.box.to(email)[0])[0])
    counts = {k: list(variants.values()).count(k) for k in "AB"}
    assert min(counts.values()) >= 10, counts  # the hash gives each variant its sample among 50

    [split] = _report(engine_app, journey_id)["ab"]
    assert split["status"] == "running" and split["leader"] == "B" and split["auto_winner"]
    best = {v["key"]: v for v in split["variants"]}
    assert best["B"]["p_best_click"] > 0.9 and best["A"]["p_best_click"] == 1 - best["B"]["p_best_click"]
    assert best["B"]["z_click"]["z"] > 0 and best["A"]["z_click"] is None

    at(T0 + timedelta(hours=1))
    tick(engine_app)
    with engine_app.app_context():
        [winner] = db.session.scalars(select(SplitWinner)).all()
        assert (winner.journey_id, winner.node, winner.variant, winner.metric) == (journey_id, "ab", "B", "click")
        assert winner.evidence["B"]["recipients"] == counts["B"]
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "journey.ab_winner")).all()
        assert entry.actor == "auto winner" and entry.target == f"journey:{journey_id}"
        assert entry.details["variant"] == "B" and entry.details["probability"] > 0.9
    tick(engine_app)  # a second pass chooses nothing more
    with engine_app.app_context():
        assert len(db.session.scalars(select(SplitWinner)).all()) == 1

    _enter(engine_app, [f"n{i:02d}@example.com" for i in range(20)])
    after = _variants(engine_app)
    assert {after[f"n{i:02d}@example.com"] for i in range(20)} == {"B"}
    assert all(after[email] == variants[email] for email in first)  # nobody already in moved
    [split] = _report(engine_app, journey_id)["ab"]
    assert split["status"] == "winner" and split["winner"]["variant"] == "B"


def test_no_winner_before_every_variant_has_its_sample_or_without_the_rule(engine_app, smtp):
    journey_id = setup(engine_app, _graph(metric="click", min_recipients=500),
                       {"offer-a": OFFER.format(slug="a"), "offer-b": OFFER.format(slug="b")})
    _enter(engine_app, [f"c{i:02d}@example.com" for i in range(20)])
    later(10)
    for email, variant in _variants(engine_app).items():
        if variant == "B":
            click(engine_app, tracked(smtp.box.to(email)[0])[0])
    tick(engine_app)
    [split] = _report(engine_app, journey_id)["ab"]
    assert split["status"] == "collecting" and not split["enough_data"] and split["leader"] is None
    assert all(v["short_by"] == 500 - v["recipients"] for v in split["variants"])
    with engine_app.app_context():
        assert db.session.scalars(select(SplitWinner)).all() == []


def test_a_split_without_auto_winner_reports_but_never_chooses(engine_app, smtp):
    journey_id = setup(engine_app, _graph(), {"offer-a": OFFER.format(slug="a"), "offer-b": OFFER.format(slug="b")})
    _enter(engine_app, [f"c{i:02d}@example.com" for i in range(12)])
    tick(engine_app)
    [split] = _report(engine_app, journey_id)["ab"]
    assert split["auto_winner"] is False and split["rule"] == {"metric": "click", "min_recipients": 500,
                                                                 "probability": 0.9}
    with engine_app.app_context():
        assert db.session.scalars(select(SplitWinner)).all() == []
