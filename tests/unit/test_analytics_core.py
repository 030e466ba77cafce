"""The core's part of analytics: last-touch attribution, the A/B winner the shell hands in,
engagement facts in conditions."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from journeys.attribution import Order, Touch, Windows, attribute
from journeys.interpreter import advance, start
from journeys.nodes.ab_split import SplitConfig
from journeys.state import TIMER, Policy
from tests.unit.builders import T0, build, contact, edge, event, node

H, D = timedelta(hours=1), timedelta(days=1)
WINDOWS = Windows(click=5 * D, open=D)


def test_last_touch_wins_within_each_touchs_window() -> None:
    touches = [Touch(T0, 1, "click"), Touch(T0 + 2 * D, 2, "open")]
    orders = [Order(T0 + 2 * D + H, Decimal("10"), 1),      # the open, an hour before
              Order(T0 + 3 * D + H, Decimal("20"), 2),      # the open's day is over: the click, 3 days before
              Order(T0 + 5 * D, Decimal("30"), 3),          # exactly 5 days after the click: still in
              Order(T0 + 5 * D + H, Decimal("40"), 4),      # past every window
              Order(T0 - H, Decimal("50"), 5)]              # before any touch
    credits = attribute(touches, orders, WINDOWS)
    assert [(c.order.key, c.message, c.touch.kind) for c in credits] == [(1, 2, "open"), (2, 1, "click"),
                                                                         (3, 1, "click")]


def test_a_click_outranks_an_open_at_the_same_moment_and_no_open_window_means_clicks_only() -> None:
    touches = [Touch(T0, 1, "open"), Touch(T0, 2, "click")]
    [credit] = attribute(touches, [Order(T0 + H, Decimal("5"), 1)], WINDOWS)
    assert credit.message == 2
    assert attribute([Touch(T0, 1, "open")], [Order(T0 + H, Decimal("5"), 1)], Windows(5 * D, timedelta(0))) == []


def _split_journey(**auto: object):  # type: ignore[no-untyped-def]
    config = {"variants": [{"key": "A", "weight": 50}, {"key": "B", "weight": 50}]}
    if auto:
        config["auto_winner"] = auto
    nodes = [node("start", "trigger", event="signup"), {"id": "ab", "type": "ab_split", "config": config},
             node("ma", "send", template="a"), node("mb", "send", template="b"), {"id": "end", "type": "exit"}]
    return build(nodes, [edge("start", "ab"), edge("ab", "ma", "A"), edge("ab", "mb", "B"),
                         edge("ma", "end"), edge("mb", "end")])


def test_a_chosen_winner_takes_every_new_contact_and_says_why() -> None:
    journey = _split_journey(metric="conversion", min_recipients=100, probability=0.95)
    policy = Policy(winners={(journey.key, "ab"): "B"})
    decisions = [start(journey, contact(f"c{i}"), event(), T0, key=f"e{i}", policy=policy) for i in range(30)]
    assert {d.effects[0].variant for d in decisions} == {"B"}
    assert all(s.reason == "winner" for d in decisions for s in d.trace if s.node == "ab")
    plain = [start(journey, contact(f"c{i}"), event(), T0, key=f"e{i}").effects[0].variant for i in range(30)]
    assert set(plain) == {"A", "B"}
    # Another journey's winner, or a key the split does not have, changes nothing.
    for other in ({("journey-other", "ab"): "B"}, {(journey.key, "ab"): "Z"}):
        again = [start(journey, contact(f"c{i}"), event(), T0, key=f"e{i}", policy=Policy(winners=other))
                 .effects[0].variant for i in range(30)]
        assert again == plain


def test_a_contact_who_has_a_variant_keeps_it_after_a_winner_is_chosen() -> None:
    split = {"id": "ab", "type": "ab_split", "config": {"variants": [{"key": "A", "weight": 50},
                                                                      {"key": "B", "weight": 50}]}}
    nodes = [node("start", "trigger", event="signup"), split, node("ma", "send", template="a"),
             node("mb", "send", template="b"), node("w", "wait", duration="P1D")]
    journey = build(nodes, [edge("start", "ab"), edge("ab", "ma", "A"), edge("ab", "mb", "B"), edge("ma", "w"),
                            edge("mb", "w"), edge("w", "ab")])  # every day again, through the split
    for i in range(8):
        first = start(journey, contact(f"c{i}"), event(), T0, key=f"e{i}")
        mine = first.state.variants["ab"]
        loser = "A" if mine == "B" else "B"
        again = advance(journey, first.state, contact(f"c{i}"), TIMER, T0 + 2 * D,
                        policy=Policy(winners={(journey.key, "ab"): loser}))
        assert [e.variant for e in again.effects] == [mine]


def test_auto_winner_settings_have_the_documented_defaults_and_bounds() -> None:
    config = SplitConfig.model_validate({"variants": [{"key": "A", "weight": 50}, {"key": "B", "weight": 50}],
                                         "auto_winner": {}})
    assert config.auto_winner is not None
    assert (config.auto_winner.metric, config.auto_winner.min_recipients, config.auto_winner.probability) == \
        ("click", 500, 0.9)
    from journeys.validation import analyse

    _, report = analyse({"schema": 1, "settings": {}, "nodes": [
        node("start", "trigger", event="signup"),
        {"id": "ab", "type": "ab_split", "config": {"variants": [{"key": "A", "weight": 50}, {"key": "B", "weight": 50}],
                                                    "auto_winner": {"min_recipients": 1, "probability": 2}}},
        {"id": "end", "type": "exit"}],
        "edges": [edge("start", "ab"), edge("ab", "end", "A"), edge("ab", "end", "B")]}, None, "j")
    assert [p.node for p in report.errors] == ["ab"] and "auto_winner" in report.errors[0].message


def test_engagement_facts_decide_a_condition() -> None:
    rule = {"field": "engagement.clicked.m1", "op": "eq", "value": True}
    nodes = [node("start", "trigger", event="signup"), node("w", "wait", duration="PT1H"),
             node("c", "condition", rule=rule), {"id": "end", "type": "exit"}]
    journey = build(nodes, [edge("start", "w"), edge("w", "c"), edge("c", "end", "yes"), edge("c", "end", "no")])
    waiting = start(journey, contact(), event(), T0, key="e1").state
    clicked = replace(contact(), engagement={"clicked": frozenset({"m1"})})
    other = replace(contact(), engagement={"clicked": frozenset({"m2"}), "opened": frozenset({"m1"})})
    ports = [[s.port for s in advance(journey, waiting, who, TIMER, T0 + 2 * H).trace if s.node == "c"]
             for who in (clicked, other, contact())]
    assert ports == [["yes"], ["no"], ["no"]]
