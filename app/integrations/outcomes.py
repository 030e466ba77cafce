"""What a shop's webhook means for us: an event to store, a request to record, or nothing."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union


@dataclass(frozen=True)
class CartNote:
    """What a webhook says about a checkout's cart: still open (restart its wait), or ended."""

    token: str
    open: bool


@dataclass(frozen=True)
class Emit:
    """Store `event` (the native event shape of DESIGN.md) through the ingest path."""

    event: dict[str, Any]
    #: What makes two deliveries the same event within one source (`order:123`), so WooCommerce's
    #: order.created and order.updated count one order; None: the delivery itself is the event.
    key: str | None = None
    cart: CartNote | None = None


@dataclass(frozen=True)
class Ignore:
    """Acknowledge and record, store no event: `reason` says why, for the operator."""

    reason: str
    unknown_topic: bool = False
    cart: CartNote | None = None


class PrivacyKind(str, enum.Enum):
    erasure = "erasure"            # forget this customer
    export = "export"              # send the shop this customer's data
    shop_erasure = "shop_erasure"  # forget everything of this shop


@dataclass(frozen=True)
class PrivacyAsk:
    """A data-subject request the shop forwards to us."""

    kind: PrivacyKind
    email: str | None
    external_id: str | None
    details: dict[str, Any] = field(default_factory=dict)


Outcome = Union[Emit, Ignore, PrivacyAsk]


#: One topic's translation: the parsed body in, what it means out.
TopicMapping = Callable[[dict[str, Any]], Outcome]


def dispatch(topics: Mapping[str, TopicMapping], topic: str, payload: Any) -> Outcome:
    """The outcome of `topic`'s mapping; an unknown topic or a body that is no object is ignored."""
    if not isinstance(payload, dict):
        return Ignore("the body is not a JSON object")
    handler = topics.get(topic)
    if handler is None:
        return Ignore(f"Journeys does not use the topic {topic!r}", unknown_topic=True)
    return handler(payload)
