"""The core's one exception hierarchy."""
from __future__ import annotations

from typing import Any


class JourneyError(Exception):
    """Base of every error the journey core raises."""


class InvalidJourney(JourneyError):
    """A journey graph that must not run; `problems` lists every reason at once."""

    def __init__(self, problems: list[Any], message: str | None = None) -> None:
        self.problems = problems
        super().__init__(message or f"invalid journey: {len(problems)} problem(s)")


class RuleError(JourneyError):
    """A RULE tree that cannot be evaluated (unknown op, malformed node)."""


class DurationError(JourneyError):
    """Not an ISO 8601 duration we understand."""


class TemplateError(JourneyError):
    """A template that does not compile or render; `line` points at the problem."""

    def __init__(self, message: str, *, line: int | None = None, kind: str = "render") -> None:
        self.message = message
        self.line = line
        self.kind = kind  # syntax | mjml | render | limit
        super().__init__(f"{message} (line {line})" if line else message)


class AddressError(JourneyError, ValueError):
    """Text that is not an email address."""


class StepBudgetExceeded(JourneyError):
    """The interpreter ran more steps in one call than its budget allows."""


class SimulationError(JourneyError):
    """Simulator input that cannot be run (no trigger event, a bad timestamp …)."""
