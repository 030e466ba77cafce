"""Typed values as a marketer types them: `50`, `true`, `PL`, `"007"`, `[1, 2]`."""
from __future__ import annotations

import json
from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""A blank field: the key is left out of the config."""


def literal(text: str) -> Any:
    """A JSON literal when the text is one (numbers, true/false, null, lists, quoted text),
    else the text itself; blank is MISSING. Leading zeros stay text: "007" is not JSON."""
    stripped = text.strip()
    if not stripped:
        return MISSING
    try:
        return json.loads(stripped)
    except ValueError:
        return stripped


def to_text(value: Any) -> str:
    """What `literal` reads back as `value`: text that would read as something else is quoted."""
    if isinstance(value, str):
        return value if literal(value) == value else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)
