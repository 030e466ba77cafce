"""What the canvas draws on a node besides its config: a one-line summary and its out-ports.

Ports come from the node type itself (journeys/nodes), read leniently so a node being set
up (weights not adding up yet, say) still shows the ports its config names.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from journeys.nodes import NODE_TYPES
from app.web.rule_builder import OP_LABELS

PALETTE_ORDER = ("trigger", "wait", "condition", "ab_split", "send", "update_contact", "webhook",
                 "goal", "exit")
#: The config a node dragged from the palette starts with.
DEFAULT_CONFIGS: dict[str, dict[str, Any]] = {
    "trigger": {"event": ""},
    "wait": {"duration": "P1D"},
    "condition": {"rule": {"all": []}},
    "ab_split": {"variants": [{"key": "A", "weight": 50}, {"key": "B", "weight": 50}]},
    "send": {"template": "", "category": "marketing", "on_frequency_cap": "skip"},
    "update_contact": {"add_tags": []},
    "webhook": {"url": "", "method": "POST"},
    "goal": {"event": "", "within": "P7D"},
    "exit": {},
}
HINTS = {
    "trigger": "The event that enrolls a contact.",
    "wait": "A delay, a time of day, or an event with a timeout.",
    "condition": "Yes or no, by a rule.",
    "ab_split": "Random variants by weight.",
    "send": "An email from a template.",
    "update_contact": "Set attributes, add or remove tags.",
    "webhook": "Call another system.",
    "goal": "Count a conversion.",
    "exit": "The journey ends here.",
}
_UNITS = {"Y": "year", "M": "month", "W": "week", "D": "day", "H": "hour", "S": "second"}
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def palette() -> list[dict[str, Any]]:
    """The node types a marketer can drag, in the order the palette lists them."""
    known = [t for t in PALETTE_ORDER if t in NODE_TYPES] + sorted(set(NODE_TYPES) - set(PALETTE_ORDER))
    items = []
    for kind in known:
        config = DEFAULT_CONFIGS.get(kind, {})
        ports = ports_of(kind, config)
        items.append({"type": kind, "label": NODE_TYPES[kind].label or kind, "hint": HINTS.get(kind, ""),
                      "config": config, "ports": [None] if ports is None else ports})
    return items


def ports_of(node_type: str, config: Any) -> list[str | None] | None:
    """The node's out-ports, or None when its config is too broken to tell."""
    handler = NODE_TYPES.get(node_type)
    if handler is None:
        return None
    try:
        model = handler.config_model.model_validate(config if config is not None else {})
        return list(handler.ports(handler.prepare(model)))
    except Exception:  # noqa: BLE001 - a config being typed may fail anywhere in prepare
        return None


def node_meta(graph: Any) -> dict[str, dict[str, Any]]:
    """node id → {label, summary, ports} for every node of `graph`."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    meta = {}
    for node in nodes or []:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            continue
        kind, config = node.get("type"), node.get("config") or {}
        handler = NODE_TYPES.get(kind)  # type: ignore[arg-type]
        meta[node["id"]] = {"label": handler.label if handler else str(kind), "summary": summary(kind, config),
                            "ports": ports_of(kind, config)}  # type: ignore[arg-type]
    return meta


def draft_hash(graph: Any) -> str:
    """Names one draft: the editor sends it back so a save over somebody else's edit is refused."""
    text = json.dumps(graph, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def human_duration(iso: Any) -> str:
    match = _DURATION.match(iso) if isinstance(iso, str) and iso not in ("P", "PT") else None
    if not match:
        return str(iso or "?")
    parts = []
    for amount, unit in zip(match.groups(), ("Y", "M", "W", "D", "H", "MIN", "S")):
        if amount and int(amount):
            name = "minute" if unit == "MIN" else _UNITS[unit]
            parts.append(f"{int(amount)} {name}{'s' if int(amount) != 1 else ''}")
    return " ".join(parts) or "0"


def summary(kind: Any, config: dict[str, Any]) -> str:
    if not isinstance(config, dict):
        return "Settings need fixing"
    writer = _SUMMARIES.get(kind)  # type: ignore[arg-type]
    try:
        return writer(config) if writer else ""
    except Exception:  # noqa: BLE001 - a half-typed config still gets a card
        return "Settings need fixing"


def _trigger(c: dict[str, Any]) -> str:
    if not c.get("event"):
        return "Pick the event that starts it"
    return f"When {c['event']}" + (" (with a filter)" if c.get("filter") else "")


def _wait(c: dict[str, Any]) -> str:
    if c.get("event"):
        return f"Until {c['event']}, at most {human_duration(c.get('timeout'))}"
    if isinstance(c.get("until"), dict):
        days = c["until"].get("weekdays")
        on = f" on {', '.join(WEEKDAYS[d - 1] for d in days if isinstance(d, int) and 1 <= d <= 7)}" if days else ""
        return f"Until {c['until'].get('time', '?')}{on}"
    return f"Wait {human_duration(c.get('duration'))}" if c.get("duration") else "Set how long"


def _rule_text(rule: Any) -> str:
    if not isinstance(rule, dict) or not rule:
        return "always"
    if "field" in rule:
        value = "" if rule.get("op") in ("exists", "not_exists") else f" {json.dumps(rule.get('value'), ensure_ascii=False)}"
        return f"{rule.get('field')} {OP_LABELS.get(rule.get('op', ''), rule.get('op'))}{value}"
    if "not" in rule:
        return f"not ({_rule_text(rule['not'])})"
    match, children = next(iter(rule.items()))
    if not children:
        return "always"
    if len(children) == 1:
        return _rule_text(children[0])
    return f"{len(children)} conditions ({'all' if match == 'all' else 'any'})"


def _condition(c: dict[str, Any]) -> str:
    return f"If {_rule_text(c.get('rule'))}"


def _split(c: dict[str, Any]) -> str:
    variants = c.get("variants") or []
    return " · ".join(f"{v.get('key')} {v.get('weight', 0):g}%" for v in variants if isinstance(v, dict))


def _send(c: dict[str, Any]) -> str:
    if not c.get("template"):
        return "Pick a template"
    return c["template"] + (" · transactional" if c.get("category") == "transactional" else "")


def _update(c: dict[str, Any]) -> str:
    parts = [f"set {', '.join(c['set'])}"] if c.get("set") else []
    parts += [f"+{t}" for t in c.get("add_tags") or []] + [f"−{t}" for t in c.get("remove_tags") or []]
    return " · ".join(parts) or "Choose what to change"


def _webhook(c: dict[str, Any]) -> str:
    host = re.sub(r"^https?://", "", c.get("url") or "").split("/")[0]
    return f"{c.get('method', 'POST')} {host}" if host else "Set the URL"


def _goal(c: dict[str, Any]) -> str:
    if not c.get("event"):
        return "Pick the conversion event"
    return f"{c['event']} within {human_duration(c.get('within'))}"


_SUMMARIES = {"trigger": _trigger, "wait": _wait, "condition": _condition, "ab_split": _split,
              "send": _send, "update_contact": _update, "webhook": _webhook, "goal": _goal,
              "exit": lambda c: "The journey ends"}
