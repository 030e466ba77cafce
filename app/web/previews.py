"""What the template editor and the A/B preview share: who a preview is for, and its problems.

A preview is for a real contact (their attributes, metrics and consent, as a send reads
them) or for a sample: `{"contact": {...}, "event": {...}}`, edited as JSON on the page.
Rendering itself is `templates.render_preview`, the send's own path.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import AppError, FieldProblem, ValidationFailed
from app.models import Contact
from app.security import CSP
from app.services import templates as template_service
from journeys.rendering import RenderedEmail, TemplateSource

#: The CSP of pages that show a rendered email. A srcdoc frame inherits its page's policy,
#: and email HTML is styled inline, shows remote product images and may link web fonts (MJML's
#: default font is a Google font): those pages allow inline styles, and images, stylesheets
#: and fonts from other hosts, as an inbox would show them. Scripts stay nonce-only, and the
#: frame is sandboxed without scripts or same-origin, so the email cannot reach the page.
PREVIEW_CSP = {**CSP, "style-src": "'self' 'unsafe-inline' https:", "img-src": "'self' data: https: http:",
               "font-src": "'self' data: https:"}

#: The longest sample JSON a preview takes (the body limit of the app is the other bound).
SAMPLE_MAX = 100_000
#: Ids are 32-bit integers in the database; PostgreSQL refuses to compare a column with a larger one.
MAX_ID = 2**31 - 1


def known_id(value: int) -> bool:
    """Could `value` be a row's id? Larger numbers name nothing (and must not reach the query)."""
    return 0 < value <= MAX_ID
_LINE = re.compile(r"^line (\d+): ")


@dataclass(frozen=True)
class Problem:
    part: str  # subject | preheader | mjml | sample | contact
    message: str
    line: int | None = None
    severity: str = "error"  # error | warning

    def as_json(self) -> dict[str, Any]:
        return {"part": self.part, "message": self.message, "line": self.line, "severity": self.severity}


def problems_of(problems: list[FieldProblem] | tuple[FieldProblem, ...], severity: str = "error") -> list[Problem]:
    out = []
    for p in problems:
        part = (p.pointer or "/mjml").lstrip("/").split("/")[0] or "mjml"
        match = _LINE.match(p.detail)
        out.append(Problem(part, p.detail[match.end():] if match else p.detail,
                           int(match.group(1)) if match else None, severity))
    return out


def sample_event() -> dict[str, Any]:
    """Trigger-event properties with something for every starter: a cart, an order, picks."""
    def image(name: str) -> str:
        return url_for("static", filename=f"img/samples/{name}.svg", _external=True)

    items = [
        {"title": "Merino Wool Beanie", "price": "79.00", "quantity": 1, "image": image("beanie"),
         "url": "https://shop.example/products/merino-beanie"},
        {"title": "Trail Running Socks", "price": "29.90", "quantity": 2, "image": image("socks"),
         "url": "https://shop.example/products/trail-socks"},
    ]
    return {
        "items": items, "total": "138.80", "currency": "EUR", "name": "#1042",
        "recovery_url": "https://shop.example/cart/recover/sample",
        "order_status_url": "https://shop.example/orders/1042",
        "discount_code": "WELCOME10",
        "recommendations": [
            {"title": "Alpine Scarf", "price": "59.00", "image": image("scarf"), "url": "https://shop.example/products/scarf"},
            {"title": "Insulated Bottle", "price": "34.00", "image": image("bottle"), "url": "https://shop.example/products/bottle"},
            {"title": "Trail Gloves", "price": "44.50", "image": image("gloves"), "url": "https://shop.example/products/gloves"},
        ],
    }


def default_sample() -> dict[str, Any]:
    contact = json.loads(json.dumps(template_service.SAMPLE_CONTACT))
    contact.setdefault("metrics", {"orders_count": 3, "total_spent": 412.5})
    return {"contact": contact, "event": sample_event()}


def sample_text(sample: dict[str, Any] | None = None) -> str:
    return json.dumps(sample or default_sample(), indent=2, ensure_ascii=False)


def parse_sample(text: str | None) -> dict[str, Any]:
    """The sample from the page's JSON field (empty: the default), or ValidationFailed."""
    if text is None or not text.strip():
        return default_sample()
    if len(text) > SAMPLE_MAX:
        raise ValidationFailed(f"The sample is longer than {SAMPLE_MAX:,} characters.", field="sample")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"line {exc.lineno}: the sample is not JSON: {exc.msg}.", field="sample") from None
    if not isinstance(data, dict) or set(data) - {"contact", "event"}:
        raise ValidationFailed('The sample is an object with "contact" and "event" (the trigger '
                               "event's properties), nothing else.", field="sample")
    for key in ("contact", "event"):
        if key in data and not isinstance(data[key], dict):
            raise ValidationFailed(f'sample "{key}" must be an object.', field="sample")
    return data


def preview_contact(db: Session, raw: str | None) -> Contact | None:
    """The contact a preview is for (by id), None for the sample; ValidationFailed when unknown."""
    if raw is None or not str(raw).strip():
        return None
    try:
        ident = int(raw)
    except (TypeError, ValueError):
        ident = 0
    contact = db.get(Contact, ident) if known_id(ident) else None
    if contact is None:
        raise ValidationFailed("That contact does not exist (any more): pick another, or use the sample.",
                               field="contact")
    return contact


@dataclass
class Preview:
    email: RenderedEmail | None
    problems: list[Problem]

    @property
    def problems_json(self) -> str:
        return json.dumps([p.as_json() for p in self.problems])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def render(db: Session, source: TemplateSource, *, contact: Contact | None, sample: dict[str, Any],
           settings: Settings, category: str = "marketing") -> Preview:
    """The email as a send renders it, or every problem that stops it (each on its line)."""
    problems = problems_of(template_service.check_source(source.subject, source.preheader, source.mjml))
    if problems:
        return Preview(None, problems)
    warnings = problems_of(template_service.warnings_for(category, source.mjml), "warning")
    located = template_service.unbalanced_tag(source.mjml)
    if located:  # MJML forgives some of these; the author still wants to know where
        warnings.append(Problem("mjml", located[1], located[0], "warning"))
    try:
        email = template_service.render_preview(db, source, contact=contact, sample=sample, settings=settings)
    except AppError as exc:
        return Preview(None, problems_of(exc.problems() or [FieldProblem(exc.detail, pointer="/sample")]) + warnings)
    return Preview(email, warnings)


def sender_line(db: Session, settings: Settings) -> str:
    """The From line previews show: the workspace's sender, as a send would set it."""
    from app.services import workspace

    return workspace.sender(workspace.current(db), settings.mail_from).display


#: The names a template sees (docs/templates.md), for the editor's reference panel.
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("contact.email", "The contact's address", "{{ contact.email }}"),
    ("contact.first_name", "A custom attribute: any attribute by its name", "{{ contact.first_name|default('there') }}"),
    ("contact.tags", "The contact's tags (a list)", "{% if 'vip' in contact.tags %}…{% endif %}"),
    ("contact.timezone / contact.locale", "Built-ins; empty when unknown", "{{ contact.locale }}"),
    ("event.<property>", "The trigger event's properties", "{{ event.total }} {{ event.currency }}"),
    ("event['items']", "A cart's or an order's lines: title (or name), price, quantity, image, url",
     "{% for item in event['items'] %}{{ item.title }}: {{ item.price }}{% endfor %}"),
    ("recovery_url", "A cart event's checkout-recovery link", "<a href=\"{{ recovery_url }}\">Back to your cart</a>"),
    ("metrics.orders_count", "Orders so far; also metrics.total_spent, metrics.last_order_at", "{{ metrics.orders_count }}"),
    ("unsubscribe_url", "The contact's one-click unsubscribe link: every marketing email needs it",
     "<a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>"),
    ("preferences_url", "The contact's preference centre", "<a href=\"{{ preferences_url }}\">Email preferences</a>"),
    ("shop.name", "The shop's name, from Settings", "{{ shop.name }}"),
    ("shop.url / shop.address", "The shop's web address and postal address, from Settings", "{{ shop.address }}"),
)
