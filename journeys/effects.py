"""Side effects the interpreter asks for; `app/` performs them, the core never does.

Each effect carries a key that is unique per (enrollment, node, visit), so the
shell can store it under a unique constraint and a repeated job does nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Category = Literal["marketing", "transactional"]


@dataclass(frozen=True)
class SendEmail:
    key: str
    node: str
    template: str
    category: Category
    variant: str | None


@dataclass(frozen=True)
class UpdateContact:
    key: str
    node: str
    set: dict[str, Any] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CallWebhook:
    """An outgoing HTTP call; `body` is a template the shell renders in the sandbox."""

    key: str
    node: str
    url: str
    method: str
    headers: dict[str, str]
    body: str | None


@dataclass(frozen=True)
class RecordGoal:
    key: str
    node: str
    event: str
    at: datetime


Effect = SendEmail | UpdateContact | CallWebhook | RecordGoal
