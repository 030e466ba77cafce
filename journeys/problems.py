"""What validation reports: one Problem per thing wrong, never an exception."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem with a journey: a stable `code`, a sentence, and what it concerns.

    `node` names the node the editor marks; `edge` is (from, to, port) for a
    problem with a connection; both are None for journey-wide problems.
    """

    code: str
    message: str
    node: str | None = None
    edge: tuple[str, str, str | None] | None = None
    severity: Severity = "error"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["edge"] = list(self.edge) if self.edge else None
        return data

    def __str__(self) -> str:
        where = f"{self.node}: " if self.node else ""
        return f"{where}{self.message} [{self.code}]"


def error(code: str, message: str, node: str | None = None,
          edge: tuple[str, str, str | None] | None = None) -> Problem:
    return Problem(code, message, node, edge, "error")


def warning(code: str, message: str, node: str | None = None) -> Problem:
    return Problem(code, message, node, None, "warning")


@dataclass(frozen=True)
class Report:
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": [p.as_dict() for p in self.errors],
                "warnings": [p.as_dict() for p in self.warnings]}
