"""Journey starters: ready journeys a marketer begins from (welcome series, abandoned cart,
post-purchase follow-up with cross-sell, win-back).

Each is a file `flows/<key>.json`: `name`, `description`, a schema-1 `graph`, and optionally
`templates` it brings of its own. A starter's send nodes name template slugs; creating a
journey from it also creates every such template that does not exist yet, from the template
starters (app/starters/templates) or from the file's own `templates`.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Journey, Template
from app.services import journeys as journey_service
from app.services import templates as template_service

FOLDER = Path(__file__).resolve().parent / "flows"
ORDER = ("welcome-series", "abandoned-cart", "post-purchase", "win-back")


@dataclass(frozen=True)
class JourneyStarter:
    key: str
    name: str
    description: str
    graph: dict[str, Any]
    templates: dict[str, dict[str, Any]]

    @property
    def template_slugs(self) -> list[str]:
        return sorted({n["config"]["template"] for n in self.graph["nodes"] if n["type"] == "send"})


@cache
def _load(key: str) -> JourneyStarter:
    data = json.loads((FOLDER / f"{key}.json").read_text(encoding="utf-8"))
    return JourneyStarter(key, data["name"], data["description"], data["graph"], data.get("templates", {}))


def starters() -> list[JourneyStarter]:
    return [_load(key) for key in ORDER]


def get_starter(key: str) -> JourneyStarter:
    if key not in ORDER:
        raise NotFound(f"There is no journey starter {key!r}; there are: {', '.join(ORDER)}.")
    return _load(key)


def template_source(starter: JourneyStarter, slug: str) -> template_service.TemplateIn | None:
    """The template a starter's send uses, from the template starters or the starter's own."""
    from app.starters import template_starters

    if slug in starter.templates:
        return template_service.TemplateIn(slug=slug, **starter.templates[slug])
    return template_starters().get(slug)


def create_from_starter(db: Session, key: str, *, name: str | None, user_id: int | None,
                        now: datetime) -> Journey:
    """A draft journey from starter `key`, with the templates it sends created when missing."""
    starter = get_starter(key)
    existing = set(db.scalars(select(Template.slug).where(Template.slug.in_(starter.template_slugs))))
    for slug in starter.template_slugs:
        source = template_source(starter, slug) if slug not in existing else None
        if source is not None:
            template_service.create_template(db, source, user_id=user_id, now=now)
    return journey_service.create_journey(db, name=name or starter.name, graph=copy.deepcopy(starter.graph),
                                          user_id=user_id, now=now)
