"""Settings forms of the canvas: field names decode into node configs and back (app/web/node_form.py)."""
from __future__ import annotations

import pytest

from app.web.canvas_meta import human_duration, node_meta, palette, ports_of, summary
from app.web.form_state import FormState, duration_parts
from app.web.node_form import apply_action, decode, normalise
from app.web.rule_builder import Group, Leaf, builder_from_form, builder_from_rule, rule_from_builder
from app.web.values import MISSING, literal, to_text
from journeys.nodes import NODE_TYPES


def form(**fields: str | list[str]) -> dict[str, list[str]]:
    return {name.replace("__", ":").replace("_dot_", "."): v if isinstance(v, list) else [v]
            for name, v in fields.items()}


def test_plain_nested_and_listed_names_build_the_config():
    decoded = decode({"event": ["  order_placed "], "until.time": ["09:00"], "until.weekdays:ints": ["1", "5"],
                      "variants.0.key": ["A"], "variants.0.weight:number": ["60"],
                      "variants.1.key": ["B"], "variants.1.weight:number": ["40.5"], "variants.2.key": [""]})
    assert decoded.errors == {}
    assert decoded.config == {"event": "order_placed", "until": {"time": "09:00", "weekdays": [1, 5]},
                              "variants": [{"key": "A", "weight": 60}, {"key": "B", "weight": 40.5}]}


def test_blank_fields_are_left_out_and_unreadable_ones_are_reported_by_path():
    decoded = decode({"url": [""], "variants.0.weight:number": ["fifty"], "frequency_cap.max:int": ["2.5"],
                      "body:json": ["{nope"]})
    assert decoded.config == {}
    assert decoded.errors == {"variants.0.weight": "a number, e.g. 50",
                              "frequency_cap.max": "a whole number, e.g. 3",
                              "body": decoded.errors["body"]}
    assert decoded.errors["body"].startswith("not valid JSON")


@pytest.mark.parametrize("amount, unit, iso, expected", [
    ("2", "H", "", "PT2H"), ("90", "M", "", "PT90M"), ("3", "D", "", "P3D"), ("1", "W", "", "P1W"),
    ("", "iso", "P1DT12H", "P1DT12H"), ("", "H", "", MISSING)])
def test_the_duration_picker_writes_iso_8601(amount, unit, iso, expected):
    decoded = decode({"timeout:duration.amount": [amount], "timeout:duration.unit": [unit],
                      "timeout:duration.iso": [iso]})
    assert decoded.config.get("timeout", MISSING) == expected
    if expected is not MISSING:
        assert duration_parts(expected)["unit"] == unit


def test_a_duration_that_is_not_a_whole_number_is_an_error():
    decoded = decode({"within:duration.amount": ["1.5"], "within:duration.unit": ["D"]})
    assert decoded.errors == {"within": "a whole number, e.g. 3"}


def test_pick_keeps_the_chosen_alternative_only():
    fields = {":pick": ["event timeout"], ":pick.all": ["duration until event timeout"],
              "duration:duration.amount": ["1"], "duration:duration.unit": ["D"], "until.time": ["09:00"],
              "event": ["order_placed"], "timeout:duration.amount": ["3"], "timeout:duration.unit": ["D"]}
    assert decode(fields).config == {"event": "order_placed", "timeout": "P3D"}
    fields[":pick"] = ["duration"]
    assert decode(fields).config == {"duration": "P1D"}


def test_an_unticked_optional_group_is_dropped():
    fields = {"quiet_hours:optional": ["0"], "quiet_hours.start": ["21:00"], "quiet_hours.end": ["08:00"],
              "holdout_percent:number": ["5"]}
    assert decode(fields).config == {"holdout_percent": 5}
    fields["quiet_hours:optional"] = ["0", "1"]
    assert decode(fields).config["quiet_hours"] == {"start": "21:00", "end": "08:00"}


def test_pairs_lists_and_typed_values():
    decoded = decode({"set:pairs.0.key": ["vip"], "set:pairs.0.value": ["true"],
                      "set:pairs.1.key": ["score"], "set:pairs.1.value": ["42"],
                      "set:pairs.2.key": ["zip"], "set:pairs.2.value": ["007"],
                      "set:pairs.3.key": [""], "set:pairs.3.value": ["ignored"],
                      "headers:strpairs.0.key": ["X-Id"], "headers:strpairs.0.value": ["42"],
                      "add_tags:list": ["vip, recovered,,"]})
    assert decoded.config == {"set": {"vip": True, "score": 42, "zip": "007"}, "headers": {"X-Id": "42"},
                              "add_tags": ["vip", "recovered"]}


def test_controls_and_the_csrf_token_are_not_config():
    raw = {"_node": "w1", "_type": "wait", "_action": "add:x", "csrf_token": "t", "event": "e"}
    assert normalise(raw) == {"event": ["e"]}


@pytest.mark.parametrize("text, value", [("50", 50), ("true", True), ("PL", "PL"), ('"007"', "007"),
                                         ("007", "007"), ("[1, 2]", [1, 2]), ("", MISSING)])
def test_literal_values(text, value):
    assert literal(text) == value


@pytest.mark.parametrize("value", ["PL", "true", "42", "", " padded", 42, 1.5, True, None, [1, "a"]])
def test_to_text_reads_back_as_the_same_value(value):
    assert literal(to_text(value)) == value or (value == "" and to_text(value) == '""')


RULES = [
    {"all": [{"field": "contact.country", "op": "eq", "value": "PL"}]},
    {"any": [{"field": "contact.country", "op": "in", "value": ["PL", "DE"]},
             {"all": [{"field": "event.total", "op": "gte", "value": 100},
                      {"field": "contact.tags", "op": "contains", "value": "vip"}]}]},
    {"all": [{"field": "contact.code", "op": "eq", "value": "007"},
             {"field": "metrics.last_order_at", "op": "within", "value": "P30D"},
             {"field": "contact.phone", "op": "exists"}]},
    {"all": [{"field": "contact.note", "op": "in", "value": ["a,b", "c"]}]},
]


@pytest.mark.parametrize("rule", RULES)
def test_rules_the_builder_shows_round_trip_through_the_form(rule):
    tree = builder_from_rule(rule)
    assert isinstance(tree, Group)
    fields = _as_form(tree, "rule:rule")
    assert decode(fields).config["rule"] == rule
    assert FormState(None, fields).rule("rule:rule") == tree


def _as_form(group: Group, prefix: str) -> dict[str, list[str]]:
    out = {f"{prefix}.match": [group.match]}
    for i, row in enumerate(group.rows):
        at = f"{prefix}.rows.{i}"
        if isinstance(row, Group):
            out.update(_as_form(row, at))
        else:
            out.update({f"{at}.field": [row.field], f"{at}.op": [row.op], f"{at}.value": [row.value]})
    return out


def test_rules_the_builder_cannot_show_are_edited_as_json():
    rule = {"not": {"field": "contact.country", "op": "eq", "value": "PL"}}
    shown = builder_from_rule(rule)
    assert isinstance(shown, str) and '"not"' in shown
    assert decode({"rule:rule.json": [shown]}).config["rule"] == rule


def test_builder_rows_without_a_field_are_left_out():
    tree = builder_from_form({"match": ["any"], "rows.0.field": ["contact.country"], "rows.0.op": ["eq"],
                              "rows.0.value": ["PL"], "rows.1._new": [""], "rows.2.match": ["all"]})
    assert tree == Group("any", [Leaf("contact.country", "eq", "PL"), Leaf("", "eq", ""), Group("all", [])])
    assert rule_from_builder(tree) == {"any": [{"field": "contact.country", "op": "eq", "value": "PL"}]}
    assert decode({"filter:rule.match": ["all"]}).config == {}  # an empty filter is no filter
    assert decode({"rule:rule.match": ["all"], "rule:rule.keep": ["1"]}).config == {"rule": {"all": []}}


def test_actions_add_and_remove_rows_before_the_form_is_drawn():
    fields = {"variants.0.key": ["A"], "variants.1.key": ["B"], "rule:rule.match": ["all"],
              "rule:rule.rows.0.field": ["contact.country"]}
    added = apply_action(fields, "add:variants")
    assert FormState({}, added).rows("variants") == [0, 1, 2]
    removed = apply_action(fields, "remove:variants.0")
    assert FormState({}, removed).rows("variants") == [1]
    assert decode(removed).config["variants"] == [{"key": "B"}]
    grouped = FormState({}, apply_action(fields, "group:rule:rule.rows")).rule("rule:rule")
    assert grouped == Group("all", [Leaf("contact.country"), Group("all", [])])


def test_form_state_shows_a_config():
    state = FormState({"duration": "PT3H", "until": {"weekdays": [1, 2]}, "add_tags": ["a", "b"],
                       "variants": [{"key": "A", "weight": 50.0}], "set": {"vip": True}})
    assert state.duration("duration:duration") == {"amount": "3", "unit": "H", "iso": "PT3H"}
    assert state.checked("until.weekdays:ints", 2) and not state.checked("until.weekdays:ints", 3)
    assert state.val("add_tags:list") == "a, b"
    assert state.val("variants.0.weight:number") == "50"
    assert state.rows("variants") == [0]
    assert state.pairs("set:pairs") == [("vip", "true")]
    assert state.duration("timeout:duration") == {"amount": "", "unit": "H", "iso": ""}
    assert FormState({"duration": "P1DT2H"}).duration("duration:duration")["unit"] == "iso"


def test_every_node_type_is_in_the_palette_with_ports_and_a_form():
    from pathlib import Path

    items = {item["type"]: item for item in palette()}
    assert set(items) == set(NODE_TYPES)
    templates = Path(__file__).resolve().parents[2] / "templates"
    for kind, handler in NODE_TYPES.items():
        assert (templates / handler.form).is_file(), f"{kind} has no form template {handler.form}"
    assert items["condition"]["ports"] == ["yes", "no"]
    assert items["ab_split"]["ports"] == ["A", "B"]
    assert items["exit"]["ports"] == []
    assert items["send"]["ports"] == [None]


def test_ports_and_summaries_follow_the_config():
    assert ports_of("wait", {"event": "order_placed", "timeout": "P1D"}) == ["event", "timeout"]
    assert ports_of("ab_split", {"variants": [{"key": "X", "weight": 30}, {"key": "Y", "weight": 30}]}) == ["X", "Y"]
    assert ports_of("ab_split", {"variants": "nonsense"}) is None
    assert summary("wait", {"duration": "P1DT2H30M"}) == "Wait 1 day 2 hours 30 minutes"
    assert summary("wait", {"until": {"time": "09:00", "weekdays": [1, 5]}}) == "Until 09:00 on Mon, Fri"
    assert summary("condition", {"rule": RULES[0]}) == 'If contact.country is "PL"'
    assert summary("ab_split", {"variants": [{"key": "A", "weight": 50}, {"key": "B", "weight": 50}]}) == "A 50% · B 50%"
    assert summary("send", {"template": "x", "category": "transactional"}) == "x · transactional"
    assert summary("webhook", {"url": "https://crm.example.com/hook", "method": "PUT"}) == "PUT crm.example.com"
    assert summary("trigger", {"event": ""}) == "Pick the event that starts it"
    assert human_duration("PT1M") == "1 minute"
    meta = node_meta({"nodes": [{"id": "x", "type": "nope"}, "junk", {"id": "s", "type": "send", "config": {}}]})
    assert meta["x"] == {"label": "nope", "summary": "", "ports": None}
    assert meta["s"]["summary"] == "Pick a template"
