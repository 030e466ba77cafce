"""The plain data templates see: the same names as rules (contact.*, event.*, metrics.*)."""
from __future__ import annotations

from typing import Any

from journeys.state import ContactFacts

RECOVERY_KEYS = ("recovery_url", "abandoned_checkout_url", "checkout_url")


def template_context(contact: ContactFacts, event: dict[str, Any], *,
                     unsubscribe_url: str = "", preferences_url: str = "",
                     shop: dict[str, Any] | None = None) -> dict[str, Any]:
    recovery = next((event[k] for k in RECOVERY_KEYS if isinstance(event.get(k), str)), None)
    return {
        "contact": contact.as_contact_fields(),
        "event": event,
        "metrics": dict(contact.metrics),
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": preferences_url,
        "recovery_url": recovery,
        "shop": shop or {},
    }
