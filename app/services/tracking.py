"""Open and click tracking: links rewritten at send time, and the hits recorded.

At render time (app/services/delivery.py) a `Tracker` numbers every distinct http(s) link of
the message, returns `BASE_URL/t/c/<token>` for it and stores (message, position, url) in
message_links when the message is sent; it appends an open pixel `BASE_URL/t/o/<token>.gif`
before </body>. Tokens are signed by the app (itsdangerous) and name the message and the link
position only: the click endpoint looks the URL up and can redirect nowhere else. The
unsubscribe link and our own contact pages are never rewritten.

Each hit is recorded (tracking_hits: totals), the first per message and link becomes a unique
engagement, and the first one that looks human fires `email_opened` / `email_clicked` through
the normal event pipeline (app/services/events.ingest), once, with an idempotency key.
"""
from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, Signer
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import NotFound, ValidationFailed
from app.models import Contact, Engagement, Message, MessageLink, Template, TemplateVersion, TrackingHit
from app.models.tracking import OPEN_POSITION
from app.services import machine_traffic
from journeys.rendering import RenderedEmail

log = logging.getLogger(__name__)

CLICK_SALT = "journeys.click"
OPEN_SALT = "journeys.open"
#: Hits of one kind recorded per message at most: beyond, a hammered link still redirects,
#: but the table does not grow without end.
MAX_HITS_PER_MESSAGE = 200
#: Paths of our own pages that carry their own token: never rewritten.
OWN_PAGES = ("/u/", "/preferences/", "/confirm/", "/t/")
INVALID = "This link is not valid, or it is no longer available."
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_LINKS = MessageLink.__table__
_INSERT_LINK = insert(_LINKS)


def _signer(settings: Settings, salt: str) -> Signer:
    return _signer_for(settings.secret_key, salt)


@lru_cache(maxsize=8)
def _signer_for(secret: str, salt: str) -> Signer:
    # A plain Signer over "message.position": a delivery signs every link of every message, and a
    # Serializer's JSON and zlib work cost several times the signature itself. The key is derived
    # once here (the same key Signer derives on every call by default, so tokens are the same).
    return Signer(Signer(secret, salt=salt).derive_key(), salt=salt, key_derivation="none")


_CLICK = re.compile(r"^([1-9][0-9]{0,18})\.([1-9][0-9]{0,5})$")
_OPEN = re.compile(r"^[1-9][0-9]{0,18}$")


def click_url(settings: Settings, message_id: int, position: int) -> str:
    token = _signer(settings, CLICK_SALT).sign(f"{message_id}.{position}").decode()
    return f"{settings.base_url}/t/c/{token}"


def open_url(settings: Settings, message_id: int) -> str:
    return f"{settings.base_url}/t/o/{_signer(settings, OPEN_SALT).sign(str(message_id)).decode()}.gif"


def read_click(settings: Settings, token: str) -> tuple[int, int] | None:
    """(message id, position) of a genuine click token, else None."""
    try:
        value = _signer(settings, CLICK_SALT).unsign(token).decode()
    except (BadSignature, ValueError, UnicodeError):
        return None
    found = _CLICK.match(value)
    return (int(found.group(1)), int(found.group(2))) if found else None


def read_open(settings: Settings, token: str) -> int | None:
    try:
        value = _signer(settings, OPEN_SALT).unsign(token).decode()
    except (BadSignature, ValueError, UnicodeError):
        return None
    return int(value) if _OPEN.match(value) else None


class Tracker:
    """One message's link rewriting: hand `rewrite` to the renderer, then `finish` and `save`."""

    def __init__(self, settings: Settings, message_id: int, *, retry: bool = False) -> None:
        self.settings = settings
        self.message_id = message_id
        self.retry = retry  # an earlier attempt may have stored links: they are replaced
        self.links: list[str] = []
        self._own = tuple(settings.base_url + path for path in OWN_PAGES)

    def rewrite(self, url: str) -> str:
        if url.startswith(self._own):
            return url
        self.links.append(url)
        return click_url(self.settings, self.message_id, len(self.links))

    def finish(self, email: RenderedEmail) -> RenderedEmail:
        """The email with its open pixel, before the last </body> (appended when there is none)."""
        pixel = (f'<img src="{html.escape(open_url(self.settings, self.message_id))}" width="1" height="1" '
                 'alt="" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">')
        ends = list(_BODY_END.finditer(email.html))
        body = email.html[:ends[-1].start()] + pixel + email.html[ends[-1].start():] if ends else email.html + pixel
        return replace(email, html=body)

    def save(self, db: Session) -> None:
        """Store the links (in the caller's transaction, committed with the send's outcome)."""
        conn = db.connection()
        if self.retry:
            conn.execute(delete(_LINKS).where(_LINKS.c.message_id == self.message_id))
        if self.links:
            conn.execute(_INSERT_LINK, [{"message_id": self.message_id, "position": i, "url": url}
                                        for i, url in enumerate(self.links, start=1)])


@dataclass(frozen=True)
class Visit:
    """Who fetched a tracking URL, as far as the request tells."""

    user_agent: str
    ip: str | None
    method: str
    now: datetime


@dataclass(frozen=True)
class Recorded:
    url: str | None  # where a click goes
    machine: str | None
    first_human: bool  # this hit fired the event


def _message(db: Session, message_id: int) -> Any:
    return db.execute(
        select(Message.id, Message.contact_id, Message.enrollment_id, Message.node, Message.variant,
               Message.sent_at, Contact.email, Contact.external_id, Contact.erased_at, Template.slug)
        .join(Contact, Contact.id == Message.contact_id)
        .outerjoin(TemplateVersion, TemplateVersion.id == Message.template_version_id)
        .outerjoin(Template, Template.id == TemplateVersion.template_id)
        .where(Message.id == message_id)).first()


def click(db: Session, settings: Settings, token: str, visit: Visit) -> Recorded:
    """Record a click and return where it goes (commits); NotFound for a bad or dead token."""
    found = read_click(settings, token)
    if found is None:
        raise NotFound(INVALID)
    message_id, position = found
    url = db.scalar(select(MessageLink.url).where(MessageLink.message_id == message_id,
                                                  MessageLink.position == position))
    message = _message(db, message_id) if url and _redirectable(url) else None
    if message is None or message.erased_at is not None:
        raise NotFound(INVALID)  # an erased contact's links name nobody any more
    return _record(db, message, "click", position, visit, url)


def _redirectable(url: str) -> bool:
    """Only web addresses, and nothing that could break out of a Location header."""
    return url.lower().startswith(("http://", "https://")) and not any(ord(c) < 32 or ord(c) == 127 for c in url)


def open_(db: Session, settings: Settings, token: str, visit: Visit) -> Recorded:
    message_id = read_open(settings, token)
    message = _message(db, message_id) if message_id else None
    if message is None or message.erased_at is not None:
        raise NotFound(INVALID)
    return _record(db, message, "open", OPEN_POSITION, visit, None)


def _record(db: Session, message: Any, kind: str, position: int, visit: Visit, url: str | None) -> Recorded:
    machine = machine_traffic.classify(kind, user_agent=visit.user_agent, ip=visit.ip, method=visit.method,
                                       sent_at=message.sent_at, now=visit.now)
    hits = db.scalar(select(func.count()).select_from(TrackingHit).where(
        TrackingHit.message_id == message.id, TrackingHit.kind == kind)) or 0
    if hits < MAX_HITS_PER_MESSAGE:
        db.add(TrackingHit(message_id=message.id, kind=kind, position=position or None, at=visit.now,
                           machine=machine, user_agent=visit.user_agent[:300] or None))
    first_human = _engage(db, message, kind, position, machine is None, visit.now)
    if first_human:
        _fire(db, message, kind, position, url, visit.now)  # commits, with the hit
    else:
        db.commit()
    return Recorded(url, machine, first_human)


def _engage(db: Session, message: Any, kind: str, position: int, human: bool, now: datetime) -> bool:
    """Record the unique action; True when this hit is its first human one."""
    table = Engagement.__table__
    try:
        with db.begin_nested():
            db.execute(insert(table).values(message_id=message.id, kind=kind, position=position,
                                            enrollment_id=message.enrollment_id, node=message.node,
                                            first_at=now, human_at=now if human else None))
        return human
    except IntegrityError:
        if not human:
            return False
        # Only one request can move human_at from NULL: concurrent first clicks fire one event.
        moved = db.execute(update(table).where(
            table.c.message_id == message.id, table.c.kind == kind, table.c.position == position,
            table.c.human_at.is_(None)).values(human_at=now))
        return moved.rowcount == 1


EVENT_NAMES = {"open": "email_opened", "click": "email_clicked"}


def _fire(db: Session, message: Any, kind: str, position: int, url: str | None, now: datetime) -> None:
    from app import jobs
    from app.services import events

    who = {"external_id": message.external_id} if message.external_id else {"email": message.email}
    properties: dict[str, Any] = {"message_id": message.id, "node": message.node, "variant": message.variant,
                                  "template": message.slug}
    if kind == "click":
        properties.update(link=position, url=url)
    key = f"{EVENT_NAMES[kind]}:{message.id}:{position}"
    try:
        data = events.parse({"event": EVENT_NAMES[kind], "contact": who,
                             "properties": {k: v for k, v in properties.items() if v is not None}})
    except ValidationFailed as exc:  # an address stored before today's checks: the hit still counts
        log.warning("no %s event for message %s: %s", EVENT_NAMES[kind], message.id, exc.detail)
        db.commit()
        return
    events.ingest(db, data, source="tracking", now=now, idempotency_key=key)  # commits, unless a repeat
    db.commit()
    jobs.kick_events()


def forget(db: Session, message_ids: list[int]) -> int:
    """For an erasure: the stored URLs (personalised, they may name the person) and user agents go.

    The rows stay, so the journey's counts stay right; the tokens then lead nowhere."""
    if not message_ids:
        return 0
    changed = db.execute(update(_LINKS).where(_LINKS.c.message_id.in_(message_ids)).values(url="")).rowcount
    db.execute(update(TrackingHit).where(TrackingHit.message_id.in_(message_ids)).values(user_agent=None))
    return changed or 0
