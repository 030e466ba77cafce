"""The RULE builder of the settings panel: rows of field / op / value inside all/any groups.

A RULE the builder can show (groups of leaves, nested) turns into a tree of Group and
Leaf; anything else (a `not`, a value the row cannot hold) is edited as JSON instead,
so opening a node never loses part of its rule.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.web.values import MISSING, literal, to_text
from journeys.rules import OPS

OP_LABELS = {"eq": "is", "ne": "is not", "gt": "greater than", "gte": "at least", "lt": "less than",
             "lte": "at most", "in": "is one of", "not_in": "is none of", "contains": "contains",
             "starts_with": "starts with", "exists": "exists", "not_exists": "does not exist",
             "within": "within the last"}
NO_VALUE = ("exists", "not_exists")
LIST_OPS = ("in", "not_in")
MAX_BUILDER_DEPTH = 3
"""Groups inside groups the builder draws; deeper rules are edited as JSON."""


@dataclass
class Leaf:
    field: str = ""
    op: str = "eq"
    value: str = ""

    @property
    def is_group(self) -> bool:
        return False


@dataclass
class Group:
    match: str = "all"
    rows: list["Leaf | Group"] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return True


def builder_from_rule(rule: Any) -> Group | str:
    """The tree for `rule`, or its JSON text when the builder cannot show it."""
    if rule is None:
        return Group()
    tree = _group(rule, 1) if isinstance(rule, dict) and _is_group(rule) else None
    if tree is None and isinstance(rule, dict) and "field" in rule:
        leaf = _leaf(rule)
        tree = Group(rows=[leaf]) if leaf else None
    return tree if tree is not None else json.dumps(rule, indent=2, ensure_ascii=False)


def _is_group(rule: dict[str, Any]) -> bool:
    return len(rule) == 1 and next(iter(rule)) in ("all", "any") and isinstance(next(iter(rule.values())), list)


def _group(rule: dict[str, Any], depth: int) -> Group | None:
    if depth > MAX_BUILDER_DEPTH:
        return None
    match, children = next(iter(rule.items()))
    rows: list[Leaf | Group] = []
    for child in children:
        row: Leaf | Group | None = None
        if isinstance(child, dict) and _is_group(child):
            row = _group(child, depth + 1)
        elif isinstance(child, dict) and "field" in child:
            row = _leaf(child)
        if row is None:
            return None
        rows.append(row)
    return Group(match, rows)


def _leaf(rule: dict[str, Any]) -> Leaf | None:
    if set(rule) - {"field", "op", "value"} or not isinstance(rule.get("field"), str) \
            or rule.get("op") not in OPS:
        return None
    op = rule["op"]
    if op in NO_VALUE:
        return Leaf(rule["field"], op, "")
    if "value" not in rule:
        return None
    value = rule["value"]
    if op in LIST_OPS:
        if not isinstance(value, list):
            return None
        texts = [to_text(v) for v in value]
        text = ", ".join(texts) if not any("," in t for t in texts) else json.dumps(value, ensure_ascii=False)
        return Leaf(rule["field"], op, text)
    return Leaf(rule["field"], op, to_text(value))


def builder_from_form(parts: dict[str, list[str]]) -> Group:
    """The tree a submitted builder describes (`match`, `rows.0.field`, `rows.1.match`, …)."""
    tree: dict[str, Any] = {}
    for name, values in parts.items():
        node = tree
        segments = name.split(".")
        for segment in segments[:-1]:
            node = node.setdefault(segment, {})
            if not isinstance(node, dict):
                break
        else:
            node[segments[-1]] = values[-1] if values else ""
    return _tree_group(tree, 1)


def _tree_group(node: dict[str, Any], depth: int) -> Group:
    match = node.get("match") if node.get("match") in ("all", "any") else "all"
    rows: list[Leaf | Group] = []
    children = node.get("rows") if isinstance(node.get("rows"), dict) else {}
    for key in sorted((k for k in children if re.match(r"^\d+$", k)), key=int):
        child = children[key]
        if not isinstance(child, dict):
            continue
        if "match" in child and depth < MAX_BUILDER_DEPTH:
            rows.append(_tree_group(child, depth + 1))
        else:
            op = child.get("op") if child.get("op") in OPS else "eq"
            rows.append(Leaf(str(child.get("field", "")).strip(), op, str(child.get("value", ""))))
    return Group(match, rows)


def rule_from_builder(group: Group) -> dict[str, Any] | None:
    """The RULE of a tree; rows without a field are left out; None when nothing is left."""
    children = []
    for row in group.rows:
        rule = rule_from_builder(row) if isinstance(row, Group) else _leaf_rule(row)
        if rule is not None:
            children.append(rule)
    return {group.match: children} if children else None


def _leaf_rule(leaf: Leaf) -> dict[str, Any] | None:
    if not leaf.field:
        return None
    rule: dict[str, Any] = {"field": leaf.field, "op": leaf.op}
    if leaf.op in NO_VALUE:
        return rule
    text = leaf.value.strip()
    if leaf.op in LIST_OPS:
        value = literal(text) if text.startswith("[") else [literal(item) for item in text.split(",")
                                                           if item.strip()]
        rule["value"] = value if isinstance(value, list) else [value]
    elif leaf.op == "within":
        rule["value"] = text
    else:
        value = literal(text)
        rule["value"] = "" if value is MISSING else value
    return rule
