"""ab_split: a deterministic weighted split, one out-port per variant key.

The bucket is SHA-256 of (journey, node, contact): the same contact lands on
the same variant in preview, simulation and the live engine, in every process.
Once a winner is chosen (by the marketer's `auto_winner` rule, in the shell),
the shell hands it in through `Policy.winners` and every contact arriving for
the first time goes to it; contacts that already have a variant keep theirs.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register

BUCKETS = 10_000


class Variant(NodeConfig):
    key: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    weight: float = Field(ge=0, le=100)
    label: str | None = None


class AutoWinner(NodeConfig):
    """When to stop splitting: every variant has `min_recipients` and one variant's posterior
    probability to be best on `metric` reaches `probability`."""

    metric: Literal["click", "conversion"] = "click"
    min_recipients: int = Field(default=500, ge=10, le=10_000_000)
    probability: float = Field(default=0.9, ge=0.5, le=0.999)


class SplitConfig(NodeConfig):
    variants: list[Variant] = Field(min_length=2, max_length=10)
    auto_winner: AutoWinner | None = None


@dataclass(frozen=True)
class Split:
    keys: tuple[str, ...]
    bounds: tuple[int, ...]  # cumulative upper bounds in BUCKETS
    auto_winner: AutoWinner | None = None


def bucket(*parts: str) -> int:
    """A stable number in [0, BUCKETS) for the given identifiers."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def choose(split: Split, journey: str, node: str, contact: str) -> str:
    point = bucket(journey, node, contact)
    for key, bound in zip(split.keys, split.bounds):
        if point < bound:
            return key
    return split.keys[-1]


@register
class SplitNode(NodeType[Split]):
    type = "ab_split"
    label = "A/B split"
    form = "nodes/ab_split.html"
    config_model = SplitConfig

    def ports(self, prepared: Split) -> tuple[str | None, ...]:
        return prepared.keys

    def checks(self, config: SplitConfig) -> Iterable[tuple[str, str]]:
        keys = [v.key for v in config.variants]
        if len(set(keys)) != len(keys):
            yield "ab_split.duplicate_key", "variant keys must be different from each other"
        total = sum(v.weight for v in config.variants)
        if abs(total - 100) > 1e-9:
            yield "ab_split.weights", f"variant weights add up to {total:g}, not 100"

    def prepare(self, config: SplitConfig) -> Split:
        bounds, running = [], 0.0
        for variant in config.variants:
            running += variant.weight
            bounds.append(round(running * BUCKETS / 100))
        return Split(tuple(v.key for v in config.variants), tuple(bounds), config.auto_winner)

    def enter(self, prepared: Split, ctx: StepContext) -> Outcome:
        key = ctx.state.variants.get(ctx.node)  # a revisit keeps its variant
        reason = None
        if key not in prepared.keys:
            winner = ctx.policy.winners.get((ctx.journey.key, ctx.node))
            if winner in prepared.keys:
                key, reason = winner, "winner"
            else:
                key = choose(prepared, ctx.journey.key, ctx.node, ctx.contact.key)
        ctx.state.variants[ctx.node] = key
        ctx.state.variant = key
        return Outcome.follow("passed", key, reason=reason)
