"""The RULE language: a JSON tree of all/any/not and leaves, never evaluated as code.

A rule is checked once (`rule_problems`), compiled once into a predicate
(`compile_rule`) and then evaluated per contact over plain facts:

    {"contact": {...}, "event": {...}, "metrics": {...},
     "engagement": {"opened": {node ids}, "clicked": {node ids}}, "now": datetime}

Outcomes for a missing field are defined, never exceptions: `exists` is false,
`not_exists`, `ne` and `not_in` are true, every other op is false. Values are
compared by type: numbers as numbers (numeric strings too), ISO timestamps as
moments, strings exactly, lists by membership.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from journeys.errors import DurationError
from journeys.timing import parse_duration, parse_timestamp

Predicate = Callable[[Mapping[str, Any]], bool]
NAMESPACES = ("contact", "event", "metrics", "engagement")
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "starts_with",
       "exists", "not_exists", "within")
_MISSING = object()
_TRUE_WHEN_MISSING = {"ne", "not_in", "not_exists"}
MAX_DEPTH = 32


def rule_problems(rule: Any, path: str = "rule", depth: int = 0) -> list[tuple[str, str]]:
    """Every problem in `rule` as (code, sentence); [] when it can be compiled."""
    if depth > MAX_DEPTH:
        return [("rule.too_deep", f"{path} nests more than {MAX_DEPTH} levels")]
    if not isinstance(rule, dict):
        return [("rule.invalid", f"{path} must be an object with all, any, not or field")]
    for group in ("all", "any"):
        if group in rule:
            children = rule[group]
            if len(rule) != 1 or not isinstance(children, list):
                return [("rule.invalid", f"{path}.{group} must be the only key and hold a list")]
            return [p for i, child in enumerate(children)
                    for p in rule_problems(child, f"{path}.{group}[{i}]", depth + 1)]
    if "not" in rule:
        if len(rule) != 1:
            return [("rule.invalid", f"{path}.not must be the only key")]
        return rule_problems(rule["not"], f"{path}.not", depth + 1)
    return _leaf_problems(rule, path)


def _leaf_problems(rule: dict[str, Any], path: str) -> list[tuple[str, str]]:
    field, op = rule.get("field"), rule.get("op")
    if not isinstance(field, str) or "." not in field or field.split(".", 1)[0] not in NAMESPACES:
        return [("rule.field", f"{path}.field must name contact.*, event.*, metrics.* or "
                               f"engagement.*, not {field!r}")]
    if op not in OPS:
        return [("rule.op_unknown", f"{path}.op {op!r} is not one of {', '.join(OPS)}")]
    unknown = set(rule) - {"field", "op", "value"}
    if unknown:
        return [("rule.invalid", f"{path} has unknown keys: {', '.join(sorted(unknown))}")]
    value = rule.get("value", _MISSING)
    if op in ("exists", "not_exists"):
        return []
    if value is _MISSING:
        return [("rule.value", f"{path} needs a value for op {op}")]
    if op in ("in", "not_in") and not isinstance(value, list):
        return [("rule.value", f"{path}.value must be a list for op {op}")]
    if op == "within":
        try:
            parse_duration(value)
        except DurationError as exc:
            return [("rule.value", f"{path}.value: {exc}")]
    if op in ("gt", "gte", "lt", "lte") and not isinstance(value, (int, float, str)) \
            or isinstance(value, bool) and op in ("gt", "gte", "lt", "lte"):
        return [("rule.value", f"{path}.value must be a number, text or timestamp for op {op}")]
    return []


def constant_value(rule: Any) -> bool | None:
    """True/False when a rule's outcome cannot depend on the contact, else None."""
    if not isinstance(rule, dict):
        return None
    if "all" in rule or "any" in rule:
        is_all = "all" in rule
        values = [constant_value(child) for child in rule.get("all", rule.get("any")) or []]
        decisive = False if is_all else True
        if decisive in values:
            return decisive
        return (not decisive) if all(v is not None for v in values) else None
    if "not" in rule:
        inner = constant_value(rule["not"])
        return None if inner is None else not inner
    return None


def compile_rule(rule: Any) -> Predicate:
    """A predicate over facts; the rule must have passed `rule_problems`."""
    if "all" in rule:
        children = [compile_rule(child) for child in rule["all"]]
        return lambda facts: all(child(facts) for child in children)
    if "any" in rule:
        children = [compile_rule(child) for child in rule["any"]]
        return lambda facts: any(child(facts) for child in children)
    if "not" in rule:
        inner = compile_rule(rule["not"])
        return lambda facts: not inner(facts)
    return _compile_leaf(rule["field"], rule["op"], rule.get("value"))


def evaluate(rule: Any, facts: Mapping[str, Any]) -> bool:
    return compile_rule(rule)(facts)


def _compile_leaf(field: str, op: str, value: Any) -> Predicate:
    read = field_reader(field)
    compare = _COMPARE[op]
    when_missing = op in _TRUE_WHEN_MISSING
    if op == "within":
        value = parse_duration(value)

    def leaf(facts: Mapping[str, Any]) -> bool:
        found = read(facts)
        if found is _MISSING or found is None:
            return when_missing
        try:
            return compare(found, value, facts)
        except (TypeError, ValueError, OverflowError):
            return False  # incomparable types: a defined "no", never a crash
    return leaf


def field_reader(field: str) -> Callable[[Mapping[str, Any]], Any]:
    """A function reading a dotted field from facts, _MISSING when absent."""
    namespace, _, rest = field.partition(".")
    parts = tuple(rest.split("."))
    if namespace == "engagement":
        kind, node = parts[0], (parts[1] if len(parts) > 1 else None)

        def engaged(facts: Mapping[str, Any]) -> Any:
            nodes = (facts.get("engagement") or {}).get(kind)
            if nodes is None:
                return False
            return (node in nodes) if node else bool(nodes)
        return engaged

    def read(facts: Mapping[str, Any]) -> Any:
        current: Any = facts.get(namespace, _MISSING)
        for part in parts:
            if isinstance(current, Mapping):
                current = current.get(part, _MISSING)
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                return _MISSING
        return current
    return read


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _pair(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Bring two values to one comparable type, or None when they have none."""
    if isinstance(left, (int, float)) and not isinstance(left, bool) \
            or isinstance(right, (int, float)) and not isinstance(right, bool):
        a, b = _number(left), _number(right)
        return None if a is None or b is None else (a, b)
    if isinstance(left, (str, datetime)) and isinstance(right, (str, datetime)):
        a_time, b_time = parse_timestamp(left), parse_timestamp(right)
        if a_time is not None and b_time is not None:
            return a_time, b_time
        if isinstance(left, str) and isinstance(right, str):
            return left, right
    return None


def _eq(left: Any, right: Any, _facts: Any = None) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right or left == right and type(left) is type(right)
    pair = _pair(left, right)
    return pair[0] == pair[1] if pair else left == right


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any, Any], bool]:
    def compare(left: Any, right: Any, _facts: Any) -> bool:
        pair = _pair(left, right)
        return bool(pair) and test(*pair)  # type: ignore[misc]
    return compare


def _in(left: Any, right: Any, _facts: Any) -> bool:
    candidates = left if isinstance(left, list) else [left]
    return any(_eq(item, option) for item in candidates for option in right)


def _contains(left: Any, right: Any, _facts: Any) -> bool:
    if isinstance(left, list):
        return any(_eq(item, right) for item in left)
    if isinstance(left, str):
        return str(right) in left
    if isinstance(left, Mapping):
        return right in left
    return False


def _within(left: Any, right: Any, facts: Mapping[str, Any]) -> bool:
    moment, now = parse_timestamp(left), facts.get("now")
    if moment is None or now is None:
        return False
    return right.before(now) <= moment <= now


_COMPARE: dict[str, Callable[[Any, Any, Any], bool]] = {
    "eq": _eq,
    "ne": lambda a, b, f: not _eq(a, b),
    "gt": _ordered(lambda a, b: a > b),
    "gte": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "lte": _ordered(lambda a, b: a <= b),
    "in": _in,
    "not_in": lambda a, b, f: not _in(a, b, f),
    "contains": _contains,
    "starts_with": lambda a, b, f: isinstance(a, str) and a.startswith(str(b)),
    "exists": lambda a, b, f: True,
    "not_exists": lambda a, b, f: False,
    "within": _within,
}
