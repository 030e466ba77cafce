"""What a node's (or the journey's) settings form is drawn with: the submitted text when
there is a submission (so what was typed, right or wrong, stays on screen), else the
config's values. Field names follow node_form's grammar."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from app.web.node_form import INDEX, FormData, split_name, ticked
from app.web.rule_builder import Group, builder_from_form, builder_from_rule
from app.web.values import MISSING, to_text

_SIMPLE_DURATION = re.compile(r"^P(?:T(?P<M>\d+)M|T(?P<H>\d+)H|(?P<D>\d+)D|(?P<W>\d+)W)$")


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
            if isinstance(node, list) and INDEX.match(segment) and int(segment) < len(node):
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
            return str(option) in values if option is not None else ticked(values)
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
