"""What every node type is made of, and the registry that finds one by its type.

A node type brings: its config schema (a pydantic model), its out-ports, its
checks (turned into Problems with stable codes), `prepare` (config → the
ready-to-run form, done once per journey version) and its behaviour: `enter`
when a contact arrives, `resume` when its timer fires or an awaited event
comes. Behaviour returns an Outcome; it never performs I/O.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from journeys.effects import Effect
from journeys.problems import Problem, error
from journeys.state import ContactFacts, EnrollmentState, Policy, Stimulus

if TYPE_CHECKING:
    from journeys.graph import Journey

NEXT: None = None
"""The unnamed out-port of single-exit nodes."""


class NodeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P")


@dataclass
class StepContext:
    """Everything a node may look at while a contact passes it."""

    journey: Journey
    node: str
    state: EnrollmentState
    contact: ContactFacts
    now: datetime
    stimulus: Stimulus | None
    policy: Policy
    tz: ZoneInfo | timezone
    effects: list[Effect] = field(default_factory=list)
    _facts: dict[str, Any] | None = None

    @property
    def facts(self) -> dict[str, Any]:
        """The names rules read; built on first use, since most nodes never ask."""
        if self._facts is None:
            contact = self.contact
            self._facts = {"contact": contact.as_contact_fields(), "event": self.state.event,
                           "metrics": contact.metrics, "engagement": contact.engagement,
                           "now": self.now}
        return self._facts

    def contact_changed(self) -> None:
        self._facts = None

    @property
    def visit(self) -> int:
        return self.state.visits.get(self.node, 0)

    def effect_key(self) -> str:
        return f"{self.state.key}:{self.node}:{self.visit}"


@dataclass(slots=True)
class Outcome:
    """What a node decided. kind: follow a port, rest here until something, or finish."""

    kind: Literal["follow", "rest", "finish"]
    outcome: str
    port: str | None = None
    until: datetime | None = None
    waiting_for: str | None = None
    reason: str | None = None
    details: Mapping[str, Any] | None = None

    @staticmethod
    def follow(outcome: str = "passed", port: str | None = NEXT, **extra: Any) -> Outcome:
        return Outcome("follow", outcome, port=port, **extra)

    @staticmethod
    def rest(outcome: str, until: datetime | None, waiting_for: str | None = None,
             **extra: Any) -> Outcome:
        return Outcome("rest", outcome, until=until, waiting_for=waiting_for, **extra)


class NodeType(Generic[P]):
    type: ClassVar[str]
    config_model: ClassVar[type[NodeConfig]]
    form: ClassVar[str] = ""
    label: ClassVar[str] = ""
    suspends: ClassVar[bool] = False
    """True when a contact always rests here for a while (breaks wait-free cycles)."""

    def ports(self, prepared: P) -> tuple[str | None, ...]:
        return (NEXT,)

    def checks(self, config: Any) -> Iterable[tuple[str, str]]:
        """(code, sentence) for semantic problems the schema cannot express."""
        return ()

    def prepare(self, config: Any) -> P:
        return config  # type: ignore[no-any-return]

    def enter(self, prepared: P, ctx: StepContext) -> Outcome:
        raise NotImplementedError

    def resume(self, prepared: P, ctx: StepContext) -> Outcome:
        """Called on a timer or an event while resting here; default: go on."""
        return Outcome.follow("resumed")

    def parse(self, node_id: str, raw: Any) -> tuple[P | None, list[Problem]]:
        """Validate a raw config; return (prepared, []) or (None, problems)."""
        try:
            config = self.config_model.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            return None, [error("config.invalid", f"{self.type} settings: {_explain(exc)}",
                                node=node_id)]
        problems = [error(code, message, node=node_id) for code, message in self.checks(config)]
        if problems:
            return None, problems
        return self.prepare(config), []


NODE_TYPES: dict[str, NodeType[Any]] = {}


def register(cls: type[NodeType[Any]]) -> type[NodeType[Any]]:
    NODE_TYPES[cls.type] = cls()
    return cls


def node_type(name: str) -> NodeType[Any] | None:
    return NODE_TYPES.get(name)


def _explain(exc: ValidationError) -> str:
    parts = []
    for item in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "config"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
