"""Starter content: the templates a new workspace can begin from.

Each starter template is a file `templates/<slug>.json` in the shape of a
`journeys simulate --templates` file (`subject`, `preheader`, `mjml`,
`category`); the template editor creates templates from them, and the
journey starters send them under the same slugs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.services.templates import TemplateIn

FOLDER = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Starter:
    slug: str
    name: str
    description: str
    trigger: str
    """The event a journey sending it usually starts on."""


STARTERS: tuple[Starter, ...] = (
    Starter("welcome", "Welcome", "Greets a new subscriber; shows a first-order code when the "
            "signup event carries discount_code.", "signed_up"),
    Starter("cart-reminder", "Abandoned cart", "Lists the cart's items with pictures and prices, "
            "the total, and a button back to the saved cart (recovery_url).", "cart_abandoned"),
    Starter("post-purchase", "Post-purchase", "Thanks the buyer, sums up the order and suggests "
            "more (event.recommendations, else a link to the shop).", "order_placed"),
    Starter("win-back", "Win-back", "Invites a lapsed customer back, with a code when the event "
            "carries discount_code.", "win_back"),
)

#: The starter slugs, in the order the pages show them.
SLUGS: tuple[str, ...] = tuple(s.slug for s in STARTERS)


def starter(slug: str) -> Starter | None:
    return next((s for s in STARTERS if s.slug == slug), None)


@cache
def _raw(slug: str) -> dict[str, str]:
    return json.loads((FOLDER / f"{slug}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def template_starters() -> dict[str, TemplateIn]:
    """slug → the starter as a TemplateIn, ready for `templates.create_template`."""
    from app.services.templates import TemplateIn

    return {s.slug: TemplateIn(slug=s.slug, name=s.name, **_raw(s.slug)) for s in STARTERS}
