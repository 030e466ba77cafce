"""The RULE language: type-aware comparisons, defined outcomes for missing fields."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from journeys.rules import constant_value, evaluate, rule_problems

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
FACTS = {
    "contact": {"email": "ana@example.com", "country": "PL", "tags": ["vip", "newsletter"],
                "age": "34", "signed_up": "2026-11-28T10:00:00Z", "vip": True},
    "event": {"total": 120.5, "items": [{"title": "Beanie"}], "currency": "PLN"},
    "metrics": {"orders_count": 3, "last_order_at": "2026-06-01T00:00:00+00:00"},
    "engagement": {"opened": frozenset({"m1"}), "clicked": frozenset()},
    "now": NOW,
}


def leaf(field: str, op: str, value: Any = None) -> dict[str, Any]:
    rule = {"field": field, "op": op}
    if value is not None:
        rule["value"] = value
    return rule


@pytest.mark.parametrize("rule, expected", [
    (leaf("contact.country", "eq", "PL"), True),
    (leaf("contact.country", "eq", "pl"), False),
    (leaf("contact.country", "ne", "DE"), True),
    (leaf("event.total", "gt", 100), True),
    (leaf("event.total", "lte", "120.5"), True),        # numeric text compares as a number
    (leaf("contact.age", "gte", 18), True),             # and the other way round
    (leaf("contact.country", "gt", 5), False),          # incomparable: a defined no
    (leaf("contact.tags", "contains", "vip"), True),
    (leaf("contact.email", "contains", "@example"), True),
    (leaf("contact.email", "starts_with", "ana"), True),
    (leaf("contact.country", "in", ["PL", "CZ"]), True),
    (leaf("contact.tags", "in", ["newsletter"]), True),  # any overlap
    (leaf("contact.country", "not_in", ["DE"]), True),
    (leaf("contact.signed_up", "within", "P7D"), True),
    (leaf("metrics.last_order_at", "within", "P30D"), False),
    (leaf("metrics.last_order_at", "lt", "2026-07-01T00:00:00Z"), True),  # timestamps as moments
    (leaf("metrics.last_order_at", "gt", "2026-06-01T01:00:00+02:00"), True),
    (leaf("event.items.0.title", "eq", "Beanie"), True),
    (leaf("contact.vip", "eq", True), True),
    (leaf("contact.vip", "eq", 1), False),              # a boolean is not a number
    (leaf("engagement.opened", "eq", True), True),
    (leaf("engagement.opened.m1", "eq", True), True),
    (leaf("engagement.clicked", "eq", True), False),
    (leaf("contact.shoe_size", "exists"), False),
])
def test_leaves(rule: dict[str, Any], expected: bool) -> None:
    assert rule_problems(rule) == []
    assert evaluate(rule, FACTS) is expected


@pytest.mark.parametrize("op, expected", [
    ("eq", False), ("ne", True), ("gt", False), ("lt", False), ("in", False), ("not_in", True),
    ("contains", False), ("starts_with", False), ("exists", False), ("not_exists", True),
    ("within", False),
])
def test_a_missing_field_has_a_defined_outcome(op: str, expected: bool) -> None:
    value = {"in": ["x"], "not_in": ["x"], "within": "P1D"}.get(op, "x")
    rule = leaf("contact.missing.deeper", op, None if op.endswith("exists") else value)
    assert evaluate(rule, FACTS) is expected
    assert evaluate(rule, {}) is expected


def test_groups() -> None:
    yes, no = leaf("contact.country", "eq", "PL"), leaf("contact.country", "eq", "DE")
    assert evaluate({"all": [yes, {"not": no}]}, FACTS)
    assert not evaluate({"all": [yes, no]}, FACTS)
    assert evaluate({"any": [no, yes]}, FACTS)
    assert evaluate({"all": []}, FACTS) and not evaluate({"any": []}, FACTS)


@pytest.mark.parametrize("rule, code", [
    (leaf("contact.a", "like", "x"), "rule.op_unknown"),
    (leaf("order.total", "eq", 1), "rule.field"),
    (leaf("contact.a", "eq"), "rule.value"),
    (leaf("contact.a", "in", "PL"), "rule.value"),
    (leaf("contact.a", "within", "a week"), "rule.value"),
    ({"all": "x"}, "rule.invalid"),
    ({"all": [], "any": []}, "rule.invalid"),
    ([], "rule.invalid"),
    ({"field": "contact.a", "op": "eq", "value": 1, "extra": 2}, "rule.invalid"),
])
def test_problems(rule: Any, code: str) -> None:
    assert [c for c, _ in rule_problems(rule)] == [code]


def test_deep_nesting_is_refused_not_crashing() -> None:
    rule: dict[str, Any] = leaf("contact.a", "exists")
    for _ in range(100):
        rule = {"not": rule}
    assert [c for c, _ in rule_problems(rule)] == ["rule.too_deep"]


def test_constant_rules_are_recognised() -> None:
    real = leaf("contact.a", "exists")
    assert constant_value({"all": []}) is True
    assert constant_value({"not": {"any": []}}) is True
    assert constant_value({"all": [real, {"any": []}]}) is False
    assert constant_value({"all": [real]}) is None
