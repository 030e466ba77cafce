"""Unsubscribing: the signed links in every marketing email, and the footer that guarantees one.

The link's token (app/services/contact_links.py) names the contact and the message it came
in; a POST to it unsubscribes (RFC 8058 one-click, or the button of the page), a GET never
does. The change is committed at once and delivery reads consent again before every send,
so a message already queued for the contact is not sent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape

from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import NotFound, ValidationFailed
from app.models import ConsentRecord, Contact, SubscriptionStatus
from app.services import consent, contact_links
from app.services.facts import is_suppressed
from journeys.rendering import RenderedEmail

_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
INVALID = "This link is not valid. It may have been copied incompletely; open it from the email again."


@dataclass(frozen=True)
class Visitor:
    """The contact a public page is for, and what it shows about them."""

    contact: Contact
    message_key: str | None
    #: bounce | complaint | erasure | manual: nothing reaches the address whatever the consent.
    suppressed: bool

    @property
    def subscribed(self) -> bool:
        return self.contact.subscription_status == SubscriptionStatus.subscribed


def _visitor(db: Session, contact_id: int, message_key: str | None) -> Visitor:
    contact = db.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise NotFound("We hold no data for this link's address any more.")
    return Visitor(contact, message_key, is_suppressed(db, contact.email))


def from_unsubscribe_token(db: Session, settings: Settings, token: str) -> Visitor:
    found = contact_links.read_unsubscribe(settings, token)
    if found is None:
        raise NotFound(INVALID)
    return _visitor(db, *found)


def from_preferences_token(db: Session, settings: Settings, token: str) -> Visitor:
    contact_id = contact_links.read_preferences(settings, token)
    if contact_id is None:
        raise NotFound(INVALID)
    return _visitor(db, contact_id, None)


def unsubscribe(db: Session, visitor: Visitor, *, now: datetime, ip: str | None, user_agent: str | None,
                method: str) -> ConsentRecord | None:
    """`method`: one-click (RFC 8058, the mailbox provider's button) or page (our button)."""
    details: dict[str, str] = {"method": method}
    if visitor.message_key:
        details["message"] = visitor.message_key
    return consent.change(db, visitor.contact, "marketing", SubscriptionStatus.unsubscribed, source="link",
                          now=now, ip=ip, user_agent=user_agent, details=details)


def set_preference(db: Session, visitor: Visitor, marketing: str, *, now: datetime, ip: str | None,
                   user_agent: str | None, wording: str) -> ConsentRecord | None:
    """The preference center's choice: subscribed or unsubscribed (ValidationFailed otherwise)."""
    if marketing not in ("subscribed", "unsubscribed"):
        raise ValidationFailed("Choose whether you want marketing emails.", field="marketing")
    return consent.change(db, visitor.contact, "marketing", marketing, source="link", now=now, ip=ip,
                          user_agent=user_agent, wording=wording if marketing == "subscribed" else None,
                          details={"method": "preferences"})


def with_footer(email: RenderedEmail, settings: Settings, contact_id: int, unsubscribe_url: str) -> RenderedEmail:
    """`email` with an unsubscribe footer appended: for a marketing template that has no link to
    {{ unsubscribe_url }}, so that every marketing email shows one (the editor warns, too)."""
    prefs = contact_links.preferences_url(settings, contact_id)
    block = ('<div style="margin:24px 0 8px;font-size:12px;color:#666;text-align:center">'
             f'<a href="{escape(unsubscribe_url)}" style="color:#666">Unsubscribe</a> · '
             f'<a href="{escape(prefs)}" style="color:#666">Email preferences</a></div>')
    match = None
    for match in _BODY_END.finditer(email.html):
        pass  # the last </body>
    html = email.html[:match.start()] + block + email.html[match.start():] if match else email.html + block
    text = f"{email.text.rstrip()}\n\n--\nUnsubscribe: {unsubscribe_url}\nEmail preferences: {prefs}\n"
    return replace(email, html=html, text=text, links=(*email.links, unsubscribe_url, prefs))
