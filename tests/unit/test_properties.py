"""Properties over many inputs: termination, A/B fairness and stability, total validation."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys import TIMER, advance, load, start, validate
from journeys.interpreter import DEFAULT_BUDGET
from tests.unit.builders import T0, contact, edge, event, node

MIDDLE = {
    "wait": lambda: node("", "wait", duration="PT6H"),
    "wait_event": lambda: node("", "wait", event="order_placed", timeout="P1D"),
    "condition": lambda: node("", "condition", rule={"field": "contact.vip", "op": "eq", "value": True}),
    "ab_split": lambda: node("", "ab_split", variants=[{"key": "A", "weight": 30}, {"key": "B", "weight": 70}]),
    "send": lambda: node("", "send", template="t"),
    "update_contact": lambda: node("", "update_contact", add_tags=["x"]),
    "goal": lambda: node("", "goal", event="order_placed", within="P2D"),
    "webhook": lambda: node("", "webhook", url="https://example.com/hook"),
}
PORTS = {"condition": ["yes", "no"], "ab_split": ["A", "B"], "wait_event": ["event", "timeout"]}


@st.composite
def valid_journeys(draw: Any) -> dict[str, Any]:
    """Node i's first port goes to i+1 (all reachable); other ports go anywhere forward,
    and only waits and goals may point back, so every cycle holds a wait."""
    kinds = draw(st.lists(st.sampled_from(sorted(MIDDLE)), min_size=1, max_size=12))
    nodes = [node("n0", "trigger", event="signup")]
    for i, kind in enumerate(kinds, start=1):
        nodes.append({**MIDDLE[kind](), "id": f"n{i}"})
    last = len(nodes)
    nodes.append({"id": f"n{last}", "type": "exit"})
    edges = [edge("n0", "n1")]
    for i, kind in enumerate(kinds, start=1):
        ports = PORTS.get(kind, [None])
        back = kind in ("wait", "goal", "wait_event")
        for j, port in enumerate(ports):
            low = 1 if back else i + 1
            target = i + 1 if j == 0 else draw(st.integers(low, last))
            edges.append(edge(f"n{i}", f"n{target}", port))
    return {"schema": 1, "settings": {"exit_events": []}, "nodes": nodes, "edges": edges}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=valid_journeys(), stimuli=st.lists(st.sampled_from(["timer", "order_placed", "other"]),
                                               max_size=30), vip=st.booleans())
def test_valid_journeys_always_come_to_rest_within_the_budget(data: dict[str, Any], stimuli: list[str],
                                                            vip: bool) -> None:
    journey = load(data, "prop")
    who = contact(vip=vip)
    decision = start(journey, who, event(), T0, key="e")
    now = T0
    for stimulus in stimuli:
        assert len(decision.trace) < DEFAULT_BUDGET
        assert decision.state.exit_reason != "step_budget"
        state = decision.state
        if state.is_finished:
            break
        assert state.status == "waiting" and state.wake_at is not None
        if stimulus == "timer":
            now = state.wake_at
            decision = advance(journey, state, who, TIMER, now)
        else:
            now += timedelta(minutes=30)
            decision = advance(journey, state, who, event(stimulus, now), now)
    assert decision.state.exit_reason != "step_budget"


@settings(max_examples=5, deadline=None)
@given(weights=st.sampled_from([(50, 50), (10, 90), (20, 30, 50), (33.3, 33.3, 33.4)]),
       salt=st.text(min_size=1, max_size=8))
def test_ab_split_lands_within_two_points_of_its_weights(weights: tuple[float, ...], salt: str) -> None:
    keys = [chr(ord("A") + i) for i in range(len(weights))]
    split = node("ab", "ab_split", variants=[{"key": k, "weight": w} for k, w in zip(keys, weights)])
    nodes = [node("start", "trigger", event="signup"), split, {"id": "end", "type": "exit"}]
    journey = load({"schema": 1, "nodes": nodes,
                    "edges": [edge("start", "ab")] + [edge("ab", "end", k) for k in keys]}, f"j-{salt}")
    counts = dict.fromkeys(keys, 0)
    for i in range(10_000):
        state = start(journey, contact(f"{salt}-{i}"), event(), T0, key="e").state
        counts[state.variants["ab"]] += 1
    for key, weight in zip(keys, weights):
        assert abs(counts[key] / 100 - weight) <= 2, counts
    same = start(journey, contact(f"{salt}-7"), event(), T0, key="other").state.variants["ab"]
    assert same == start(journey, contact(f"{salt}-7"), event(), T0 + timedelta(days=3), key="x").state.variants["ab"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30)
journey_like = st.fixed_dictionaries({
    "schema": st.sampled_from([1, 1, 2, "1", None]),
    "nodes": st.lists(st.fixed_dictionaries({
        "id": st.sampled_from(["a", "b", "c", "", 3, None]),
        "type": st.sampled_from(["trigger", "wait", "send", "condition", "ab_split", "exit", "x", None]),
        "config": json_values}), max_size=6) | json_values,
    "edges": st.lists(st.fixed_dictionaries({
        "from": st.sampled_from(["a", "b", "c", 1]), "to": st.sampled_from(["a", "b", "c", None]),
        "port": st.sampled_from([None, "yes", "no", "A", "event", 5])}), max_size=6) | json_values,
    "settings": json_values})


@settings(max_examples=400, deadline=None)
@given(data=journey_like | json_values)
def test_validation_never_raises_it_returns_problems(data: Any) -> None:
    report = validate(data)
    for problem in report.errors + report.warnings:
        assert problem.code and problem.message
    json.dumps(report.as_dict())
