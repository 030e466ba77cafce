"""Helpers for the templates studio, A/B preview and workspace settings tests."""
from __future__ import annotations

import html
import json
import re
from typing import Any

from app import clock
from app.db import db
from app.services import templates as template_service
from tests.engine_support import MJML_BODY

PROBLEMS = re.compile(r'id="preview-problems"[^>]*data-problems="([^"]*)"')
SRCDOC = re.compile(r'srcdoc="([^"]*)"')


def make_template(app: Any, slug: str, subject: str = "Hello {{ contact.first_name }}",
                  body: str = "<mj-text>Hello</mj-text>", category: str = "marketing", mjml: str | None = None) -> int:
    with app.app_context():
        with db.transaction() as s:
            data = template_service.parse({"slug": slug, "subject": subject, "category": category,
                                           "mjml": mjml or MJML_BODY.format(body=body)})
            return template_service.create_template(s, data, user_id=None, now=clock.now()).id


def problems_in(page: str) -> list[dict[str, Any]]:
    """The problems a preview answer carries for the editor (the JSON its markers read)."""
    match = PROBLEMS.search(page)
    assert match, "no problems holder in the answer"
    return json.loads(html.unescape(match.group(1)))  # type: ignore[no-any-return]


def frames(page: str) -> list[str]:
    """The email HTML of every preview frame in the page."""
    return [html.unescape(m) for m in SRCDOC.findall(page)]


def form(subject: str, mjml: str, preheader: str = "", **extra: str) -> dict[str, str]:
    return {"subject": subject, "mjml": mjml, "preheader": preheader, **extra}
