"""Each validation problem: its code, the node it names, and that all come at once."""
from __future__ import annotations

from typing import Any

import pytest

from journeys import TemplateInfo, load, validate
from journeys.errors import InvalidJourney
from tests.unit.builders import chain, edge, journey_json, node

TRIGGER = node("start", "trigger", event="signup")
EXIT = {"id": "end", "type": "exit"}


def codes(data: Any, templates: dict[str, TemplateInfo] | None = None) -> set[tuple[str, str | None]]:
    return {(p.code, p.node) for p in validate(data, templates).errors}


def warnings(data: Any, templates: dict[str, TemplateInfo] | None = None) -> set[tuple[str, str | None]]:
    return {(p.code, p.node) for p in validate(data, templates).warnings}


def test_a_valid_journey_has_no_errors() -> None:
    data = journey_json([TRIGGER, node("m1", "send", template="welcome"), EXIT],
                        chain("start", "m1", "end"))
    report = validate(data, {"welcome": TemplateInfo()})
    assert report.ok and report.errors == ()


@pytest.mark.parametrize("data, code", [
    ([], "journey.invalid"),
    ("nodes", "journey.invalid"),
    ({"schema": 2, "nodes": [], "edges": []}, "schema.version"),
    ({"schema": 1, "nodes": {}, "edges": []}, "journey.invalid"),
    ({"schema": 1, "nodes": [], "edges": [], "settings": []}, "settings.invalid"),
])
def test_malformed_documents_are_refused(data: Any, code: str) -> None:
    assert code in {c for c, _ in codes(data)}


def test_exactly_one_trigger() -> None:
    none = journey_json([EXIT], [])
    two = journey_json([TRIGGER, node("again", "trigger", event="x"), EXIT],
                       [edge("start", "end"), edge("again", "end")])
    assert ("trigger.count", None) in codes(none)
    assert ("trigger.count", "again") in codes(two)


def test_unreachable_nodes_and_edges_to_missing_nodes() -> None:
    data = journey_json([TRIGGER, EXIT, {"id": "lost", "type": "exit"}],
                        [edge("start", "end"), edge("start", "ghost")])
    found = codes(data)
    assert ("node.unreachable", "lost") in found
    assert ("edge.missing_node", "start") in found


def test_ports_missing_unknown_and_duplicate() -> None:
    data = journey_json(
        [TRIGGER, node("c1", "condition", rule={"field": "contact.country", "op": "eq", "value": "PL"}),
         EXIT, {"id": "end2", "type": "exit"}],
        [edge("start", "c1"), edge("c1", "end", "yes"), edge("c1", "end2", "maybe"),
         edge("start", "end2")])
    found = codes(data)
    assert ("port.missing", "c1") in found       # no "no" branch
    assert ("port.unknown", "c1") in found       # "maybe"
    assert ("port.duplicate", "start") in found  # two next steps


def test_both_condition_ports_may_lead_to_one_node() -> None:
    data = journey_json(
        [TRIGGER, node("c1", "condition", rule={"field": "contact.vip", "op": "eq", "value": True}), EXIT],
        [edge("start", "c1"), edge("c1", "end", "yes"), edge("c1", "end", "no")])
    journey = load(data, "j")
    assert journey.successors["c1"] == {"yes": "end", "no": "end"}
    assert journey.graph().number_of_edges("c1", "end") == 2


def test_a_cycle_without_a_wait_is_refused_and_with_one_accepted() -> None:
    rule = {"field": "contact.vip", "op": "eq", "value": True}
    nodes = [TRIGGER, node("c1", "condition", rule=rule), node("u1", "update_contact", add_tags=["x"]), EXIT]
    loop = [edge("start", "c1"), edge("c1", "u1", "yes"), edge("c1", "end", "no"), edge("u1", "c1")]
    found = codes(journey_json(nodes, loop))
    assert {("cycle.no_wait", "c1"), ("cycle.no_wait", "u1")} <= found
    waited = nodes + [node("w", "wait", duration="P1D")]
    loop_with_wait = [edge("start", "c1"), edge("c1", "u1", "yes"), edge("c1", "end", "no"),
                      edge("u1", "w"), edge("w", "c1")]
    assert codes(journey_json(waited, loop_with_wait)) == set()


def test_ab_weights_must_sum_to_100() -> None:
    split = node("ab", "ab_split", variants=[{"key": "A", "weight": 60}, {"key": "B", "weight": 30}])
    data = journey_json([TRIGGER, split, EXIT], [edge("start", "ab"), edge("ab", "end", "A"),
                                                 edge("ab", "end", "B")])
    problems = validate(data).errors
    assert [(p.code, p.node) for p in problems] == [("ab_split.weights", "ab")]
    assert "90" in problems[0].message


@pytest.mark.parametrize("config, code", [
    ({"duration": "1 hour"}, "duration.invalid"),
    ({"duration": "PT0S"}, "duration.invalid"),
    ({"until": {"time": "25:00"}}, "time.invalid"),
    ({"until": {"time": "09:00", "weekdays": [0, 8]}}, "weekday.invalid"),
    ({"until": {"time": "09:00", "weekdays": []}}, "weekday.invalid"),
    ({"event": "order_placed"}, "wait.timeout"),
    ({"duration": "PT1H", "event": "order_placed", "timeout": "P1D"}, "wait.mode"),
    ({"duration": 5}, "config.invalid"),
    ({"duration": "PT1H", "colour": "red"}, "config.invalid"),
])
def test_wait_configs(config: dict[str, Any], code: str) -> None:
    data = journey_json([TRIGGER, node("w", "wait", **config), EXIT], chain("start", "w", "end"))
    assert (code, "w") in codes(data)


@pytest.mark.parametrize("type_, config", [
    ("send", {"template": "x", "category": "newsletter"}),
    ("send", {}),
    ("condition", {"rule": {"field": "contact.a", "op": "like", "value": 1}}),
    ("condition", {"rule": {"field": "shoe.size", "op": "eq", "value": 1}}),
    ("webhook", {"url": "ftp://example.com"}),
    ("update_contact", {}),
    ("update_contact", {"set": {"email": "x@example.com"}}),
    ("goal", {"event": "order_placed", "within": "soon"}),
    ("trigger", {"event": ""}),
])
def test_node_configs_are_checked_against_their_type(type_: str, config: dict[str, Any]) -> None:
    data = journey_json([TRIGGER, node("n", type_, **config), EXIT], chain("start", "n", "end"))
    assert any(n == "n" for _, n in codes(data))


def test_unknown_node_type_and_duplicate_ids() -> None:
    data = journey_json([TRIGGER, {"id": "x", "type": "sms"}, {"id": "x", "type": "exit"}, EXIT],
                        chain("start", "x", "end"))
    found = codes(data)
    assert ("node.type_unknown", "x") in found and ("node.duplicate", "x") in found


def test_send_template_must_exist_when_templates_are_given() -> None:
    data = journey_json([TRIGGER, node("m1", "send", template="nope"), EXIT], chain("start", "m1", "end"))
    assert ("template.unknown", "m1") in codes(data, {"welcome": TemplateInfo()})
    assert codes(data) == set()  # without a catalogue, templates are not checked


def test_settings_problems() -> None:
    data = journey_json([TRIGGER, EXIT], [edge("start", "end")], reentry="weekly",
                        quiet_hours={"start": "9pm", "end": "08:00"}, timezone="Mars/Olympus")
    found = {c for c, _ in codes(data)}
    assert {"duration.invalid", "time.invalid", "settings.timezone"} <= found


def test_every_problem_comes_at_once() -> None:
    data = journey_json([TRIGGER, node("w", "wait", duration="soon"), node("m", "send"),
                         {"id": "x", "type": "sms"}], [edge("start", "w"), edge("q", "m")])
    found = {c for c, _ in codes(data)}
    assert {"duration.invalid", "config.invalid", "node.type_unknown", "edge.missing_node"} <= found


def test_load_raises_with_the_same_problems() -> None:
    data = journey_json([EXIT], [])
    with pytest.raises(InvalidJourney) as caught:
        load(data, "j")
    assert [p.code for p in caught.value.problems] == ["trigger.count"]


def test_warnings_do_not_block() -> None:
    data = {"schema": 1, "settings": {}, "nodes": [
        TRIGGER, node("w", "wait", duration="P2Y"),
        node("c", "condition", rule={"all": []}), node("m", "send", template="promo"),
        node("ab", "ab_split", variants=[{"key": "A", "weight": 100}, {"key": "B", "weight": 0}]),
        EXIT], "edges": [edge("start", "w"), edge("w", "c"), edge("c", "m", "yes"),
                         edge("c", "end", "no"), edge("m", "ab"), edge("ab", "end", "A"),
                         edge("ab", "end", "B")]}
    report = validate(data, {"promo": TemplateInfo(has_unsubscribe_link=False)})
    assert report.ok
    assert {(p.code, p.node) for p in report.warnings} == {
        ("settings.no_exit_events", None), ("wait.over_a_year", "w"), ("branch.never_taken", "c"),
        ("send.no_unsubscribe", "m"), ("branch.never_taken", "ab")}


def test_problems_serialise_for_the_editor() -> None:
    report = validate(journey_json([EXIT], []))
    data = report.as_dict()
    assert data["ok"] is False and data["errors"][0]["code"] == "trigger.count"
    assert set(data["errors"][0]) == {"code", "message", "node", "edge", "severity"}
