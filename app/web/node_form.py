"""Settings forms of the canvas: a submitted form becomes a node's config (or the journey's
settings), and a config or a submission becomes the values the form is drawn with.

A field's name says where its value goes and how to read it, so a node type's form
template is the only declaration of its form (no per-type Python):

    event                       text at config["event"]; blank leaves the key out
    until.time                  nested objects: config["until"]["time"]
    variants.0.key              lists of objects: config["variants"][0]["key"]
    variants.0.weight:number    a kind after the colon reads the text (KINDS below)
    timeout:duration.amount     composite kinds have parts (duration, rule, pairs)
    :pick  +  :pick.all         a radio of alternatives: keys in `all` but not picked are dropped
    quiet_hours:optional        a checkbox (after a hidden "0" of the same name, so unticked is
                                sent too): unticked drops everything under quiet_hours

`_action` (a button's value) changes the rows before the form is drawn again:
`add:<list>`, `group:<rule rows>` (a nested all/any group), `remove:<row>`.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.web.rule_builder import builder_from_form, rule_from_builder
from app.web.values import MISSING, literal

INDEX = re.compile(r"^\d+$")
FormData = Mapping[str, list[str]]


@dataclass
class Decoded:
    """A config read from a form, and what could not be read (path → sentence)."""
    config: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def normalise(form: Any) -> dict[str, list[str]]:
    """A werkzeug MultiDict (or a plain dict) as name → every value given, controls left out."""
    if hasattr(form, "getlist"):
        return {name: form.getlist(name) for name in form.keys() if _is_field(name)}
    return {name: (value if isinstance(value, list) else [value])
            for name, value in dict(form).items() if _is_field(name)}


def _is_field(name: str) -> bool:
    return not name.startswith("_") and name != "csrf_token"


def split_name(name: str) -> tuple[str, str, str]:
    """'timeout:duration.amount' → ('timeout', 'duration', 'amount'); 'event' → ('event', '', '')."""
    path, _, rest = name.partition(":")
    kind, _, part = rest.partition(".")
    return path, kind, part


def decode(form: FormData) -> Decoded:
    root: dict[str, Any] = _Branch()
    errors: dict[str, str] = {}
    optional: set[str] = set()
    composite: dict[tuple[str, str], dict[str, list[str]]] = {}
    picks: dict[str, dict[str, list[str]]] = {}
    for name, values in form.items():
        path, kind, part = split_name(name)
        if kind in COMPOSITE:
            composite.setdefault((path, kind), {})[part] = values
            continue
        if kind == "optional":
            if values and values[-1] not in ("", "0", "off"):
                optional.add(path)
            continue
        if kind == "pick":
            picks.setdefault(path, {})[part] = values
            continue
        _store(root, path, KINDS.get(kind, _unknown_kind)(values), errors)
    for (path, kind), parts in composite.items():
        _store(root, path, COMPOSITE[kind](parts), errors)
    for name in form:
        path, kind, _ = split_name(name)
        if kind == "optional" and path not in optional:
            _drop(root, path)
    for path, parts in picks.items():
        kept = set(" ".join(parts.get("", [])).split())
        for name in " ".join(parts.get("all", [])).split():
            if name not in kept:
                _drop(root, f"{path}.{name}" if path else name)
    config = _finish(root)
    return Decoded(config if isinstance(config, dict) else {}, errors)


class _Branch(dict):  # type: ignore[type-arg]
    """An object made by a dotted name (as opposed to a value that is itself an object)."""


class _Problem(str):
    """A value that could not be read: the sentence says why."""


def _store(root: dict[str, Any], path: str, value: Any, errors: dict[str, str]) -> None:
    if isinstance(value, _Problem):
        errors[path] = str(value)
        return
    if value is MISSING or not path:
        return
    node = root
    *parents, last = path.split(".")
    for segment in parents:
        child = node.get(segment)
        if not isinstance(child, _Branch):
            child = node[segment] = _Branch()
        node = child
    node[last] = value


def _drop(root: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node: Any = root
    for segment in parents:
        node = node.get(segment) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def _finish(value: Any) -> Any:
    if not isinstance(value, _Branch):
        return value
    items = {k: _finish(v) for k, v in value.items()}
    items = {k: v for k, v in items.items() if v is not MISSING}
    if not items:
        return MISSING
    if all(INDEX.match(k) for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return dict(items)


# --- kinds: the text of one field → a value, MISSING (blank) or a _Problem -----------------

def _text(values: list[str]) -> Any:
    text = values[-1].strip() if values else ""
    return text or MISSING


def _raw(values: list[str]) -> Any:
    text = values[-1] if values else ""
    return text if text.strip() else MISSING


def _number(values: list[str], whole: bool = False) -> Any:
    text = values[-1].strip() if values else ""
    if not text:
        return MISSING
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return _Problem("a whole number, e.g. 3" if whole else "a number, e.g. 50")
    if whole and not number.is_integer():
        return _Problem("a whole number, e.g. 3")
    return int(number) if whole or number.is_integer() else number


def _ints(values: list[str]) -> Any:
    picked = [v for v in values if v.strip()]
    try:
        return sorted({int(v) for v in picked}) if picked else MISSING
    except ValueError:
        return _Problem("whole numbers only")


def _list(values: list[str]) -> Any:
    items = [item.strip() for text in values for item in text.split(",")]
    items = [item for item in items if item]
    return items or MISSING


def _json(values: list[str]) -> Any:
    text = values[-1].strip() if values else ""
    if not text:
        return MISSING
    try:
        return json.loads(text)
    except ValueError as exc:
        return _Problem(f"not valid JSON: {exc}")


def ticked(values: list[str]) -> Any:
    """A checkbox's values: ticked when the last one is not a hidden "0"."""
    return bool(values) and values[-1] not in ("", "0", "off", "false")


def _value(values: list[str]) -> Any:
    return literal(values[-1] if values else "")


def _unknown_kind(values: list[str]) -> Any:
    return _Problem("this field has an unknown kind")


KINDS = {"": _text, "text": _text, "raw": _raw, "int": lambda v: _number(v, whole=True),
         "number": _number, "ints": _ints, "list": _list, "json": _json, "bool": ticked,
         "value": _value}


def _duration(parts: dict[str, list[str]]) -> Any:
    unit = _text(parts.get("unit", []))
    if unit == "iso":
        return _text(parts.get("iso", []))
    amount = _number(parts.get("amount", []), whole=True)
    if amount is MISSING or isinstance(amount, _Problem):
        return amount
    if unit not in ("M", "H", "D", "W"):
        return _Problem("pick a unit")
    return f"PT{amount}{unit}" if unit in ("M", "H") else f"P{amount}{unit}"


def _rule(parts: dict[str, list[str]]) -> Any:
    if "json" in parts:
        return _json(parts["json"])
    builder = builder_from_form(parts)
    rule = rule_from_builder(builder)
    if rule is None:
        return {builder.match: []} if parts.get("keep") else MISSING
    return rule


def _pairs(parts: dict[str, list[str]], typed: bool = True) -> Any:
    rows: dict[int, dict[str, str]] = {}
    for part, values in parts.items():
        index, _, key = part.partition(".")
        if INDEX.match(index) and key in ("key", "value"):
            rows.setdefault(int(index), {})[key] = values[-1] if values else ""
    result: dict[str, Any] = {}
    for index in sorted(rows):
        name = rows[index].get("key", "").strip()
        text = rows[index].get("value", "")
        if not name:
            continue
        value = literal(text) if typed else text
        result[name] = "" if value is MISSING else value
    return result or MISSING


COMPOSITE = {"duration": _duration, "rule": _rule, "pairs": _pairs,
             "strpairs": lambda parts: _pairs(parts, typed=False)}


# --- before drawing again ------------------------------------------------------------------

def apply_action(form: FormData, action: str) -> dict[str, list[str]]:
    """The form after an add/remove button: rows are added or dropped before drawing."""
    data = {name: list(values) for name, values in form.items()}
    verb, _, target = action.partition(":")
    if verb == "remove" and target:
        return {n: v for n, v in data.items() if n != target and not n.startswith(target + ".")}
    if verb in ("add", "group") and target:
        taken = [int(m.group(1)) for n in data
                 if (m := re.match(re.escape(target) + r"\.(\d+)\.", n))]
        index = max(taken, default=-1) + 1
        key = "match" if verb == "group" else "_new"
        data[f"{target}.{index}.{key}"] = ["all" if verb == "group" else ""]
    return data

