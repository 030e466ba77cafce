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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.web.rule_builder import Group, builder_from_form, builder_from_rule, rule_from_builder
from app.web.values import MISSING, literal, to_text

DURATION_UNITS = (("M", "minutes"), ("H", "hours"), ("D", "days"), ("W", "weeks"), ("iso", "ISO 8601"))
_SIMPLE_DURATION = re.compile(r"^P(?:T(?P<M>\d+)M|T(?P<H>\d+)H|(?P<D>\d+)D|(?P<W>\d+)W)$")
_INDEX = re.compile(r"^\d+$")
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
    if all(_INDEX.match(k) for k in items):
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


def _bool(values: list[str]) -> Any:
    return bool(values) and values[-1] not in ("", "0", "off", "false")


def _value(values: list[str]) -> Any:
    return literal(values[-1] if values else "")


def _unknown_kind(values: list[str]) -> Any:
    return _Problem("this field has an unknown kind")


KINDS = {"": _text, "text": _text, "raw": _raw, "int": lambda v: _number(v, whole=True),
         "number": _number, "ints": _ints, "list": _list, "json": _json, "bool": _bool,
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
        if _INDEX.match(index) and key in ("key", "value"):
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


# --- drawing: the values a form shows -----------------------------------------------------

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


class FormState:
    """What a form template draws: the submitted text when there is a submission, else the
    config's values, plus errors by path."""

    def __init__(self, config: Mapping[str, Any] | None, form: FormData | None = None,
                 errors: Mapping[str, str] | None = None) -> None:
        self.config = dict(config or {})
        self.form = form
        self.errors = dict(errors or {})

    def _config_value(self, path: str) -> Any:
        node: Any = self.config
        for segment in path.split("."):
            if isinstance(node, list) and _INDEX.match(segment) and int(segment) < len(node):
                node = node[int(segment)]
            elif isinstance(node, dict) and segment in node:
                node = node[segment]
            else:
                return MISSING
        return node

    def val(self, name: str) -> str:
        """The text of the input called `name`."""
        if self.form is not None:
            values = self.form.get(name) or [""]
            return values[-1]
        path, kind, _ = split_name(name)
        value = self._config_value(path)
        if value is MISSING or value is None:
            return ""
        if kind == "list" and isinstance(value, list):
            return ", ".join(map(str, value))
        if kind == "json":
            return json.dumps(value, indent=2, ensure_ascii=False)
        if kind == "value":
            return to_text(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def checked(self, name: str, option: Any = None) -> bool:
        """A checkbox (or a checkbox of a group, `option`) is ticked."""
        path, kind, _ = split_name(name)
        if self.form is not None:
            values = self.form.get(name) or []
            return str(option) in values if option is not None else _bool(values)
        value = self._config_value(path)
        if kind == "optional":
            return value is not MISSING and value is not None
        if option is not None:
            return isinstance(value, list) and option in value
        return value is True

    def present(self, path: str) -> bool:
        """The config (or the submission) has a value under `path`."""
        if self.form is not None:
            return any(split_name(n)[0] == path or n.startswith(path + ".")
                       for n, v in self.form.items() if any(x.strip() for x in v))
        value = self._config_value(path)
        return value is not MISSING and value is not None

    def picked(self, name: str, option: str) -> bool:
        """The radio `name` (a :pick) has `option`: from the submission, else the config has
        the first key `option` names."""
        if self.form is not None:
            return (self.form.get(name) or [""])[-1] == option
        path = split_name(name)[0]
        first = option.split()[0]
        return self.present(f"{path}.{first}" if path else first)

    def rows(self, path: str) -> list[int]:
        """Indices of the rows of the list at `path`."""
        if self.form is not None:
            found = {int(m.group(1)) for n in self.form
                     if (m := re.match(re.escape(path) + r"\.(\d+)[.:]", n))}
            return sorted(found)
        value = self._config_value(path)
        return list(range(len(value))) if isinstance(value, list) else []

    def duration(self, name: str) -> dict[str, str]:
        """{amount, unit, iso} of a duration picker called `name` (e.g. 'timeout:duration')."""
        if self.form is not None:
            get = lambda part: (self.form.get(f"{name}.{part}") or [""])[-1]  # noqa: E731
            return {"amount": get("amount"), "unit": get("unit") or "H", "iso": get("iso")}
        value = self._config_value(split_name(name)[0])
        return duration_parts(value if isinstance(value, str) else "")

    def rule(self, name: str) -> Group | str:
        """The builder tree of the rule called `name` (e.g. 'rule:rule'), or JSON text when
        the rule is more than the builder can show."""
        if self.form is not None:
            prefix = name + "."
            parts = {n[len(prefix):]: v for n, v in self.form.items() if n.startswith(prefix)}
            if "json" in parts:
                return parts["json"][-1]
            return builder_from_form(parts)
        value = self._config_value(split_name(name)[0])
        return builder_from_rule(None if value is MISSING else value)

    def pairs(self, name: str) -> list[tuple[str, str]]:
        """(key, value) rows of a pairs field (e.g. 'set:pairs')."""
        if self.form is not None:
            prefix = name + "."
            indices = sorted({int(m.group(1)) for n in self.form
                              if (m := re.match(re.escape(prefix) + r"(\d+)\.", n))})
            get = lambda i, k: (self.form.get(f"{prefix}{i}.{k}") or [""])[-1]  # noqa: E731
            return [(get(i, "key"), get(i, "value")) for i in indices]
        value = self._config_value(split_name(name)[0])
        if not isinstance(value, dict):
            return []
        typed = split_name(name)[1] == "pairs"
        return [(k, to_text(v) if typed else str(v)) for k, v in value.items()]

    def error(self, path: str) -> str | None:
        return self.errors.get(path)

    def error_paths(self) -> Iterable[str]:
        return self.errors.keys()


def duration_parts(iso: str) -> dict[str, str]:
    match = _SIMPLE_DURATION.match(iso or "")
    if match:
        unit, amount = next((u, a) for u, a in match.groupdict().items() if a is not None)
        return {"amount": amount, "unit": unit, "iso": iso}
    if not iso:
        return {"amount": "", "unit": "H", "iso": ""}
    return {"amount": "", "unit": "iso", "iso": iso}
