"""Sent mail (development only): the outbox folder read as an inbox, newest first.

Registered only when JOURNEYS_ENV is not production, for marketers and admins: mail that went
to the outbox (SMTP_URL unset, the default) can be looked at without a mail client. A message
is named by its file name, which app/mail/outbox.py accepts only as the outbox writes them,
so no URL can read a file outside that folder.

The HTML part is shown as the studio shows a preview: in a sandboxed srcdoc frame, under
the preview pages' CSP (inline styles, images from anywhere). Looking is not reading: the
open pixel is left out and the frame can follow no link (no popups, frame-src 'none'), so
the viewer records no open or click for the contact.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app.auth.access import requires
from app.config import Settings
from app.errors import NotFound
from app.mail import outbox
from app.security import talisman
from app.web import previews

bp = Blueprint("sent_mail", __name__, url_prefix="/sent-mail")

#: Messages per page of the list.
PAGE_SIZE = 50
#: The preview pages' policy, and no navigation inside the frame: a link there would be a click.
VIEWER_CSP = {**previews.PREVIEW_CSP, "frame-src": "'none'"}
_PIXEL = re.compile(r"<img\b[^>]*\bsrc=\"[^\"]*/t/o/[^\"]*\.gif\"[^>]*>", re.IGNORECASE)
VIEWS = ("desktop", "mobile", "text", "source")


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"sent_mail_nav": True}


def _settings() -> Settings:
    return current_app.config["SETTINGS"]  # type: ignore[no-any-return]


@bp.get("")
@requires("marketer")
def index() -> ResponseReturnValue:
    settings = _settings()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    total, rows = outbox.summaries(settings.outbox_path, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    return render_template("sent_mail/index.html", rows=rows, total=total, page=page, size=PAGE_SIZE,
                           folder=settings.outbox_path, smtp=bool(settings.smtp_url))


@bp.get("/<name>")
@talisman(content_security_policy=VIEWER_CSP, content_security_policy_nonce_in=["script-src"])
@requires("marketer")
def show(name: str) -> ResponseReturnValue:
    try:
        message = outbox.read(_settings().outbox_path, name)
    except outbox.NotInOutbox:
        raise NotFound("There is no such message in the outbox (it may have been removed).") from None
    view = request.args.get("view", "desktop")
    view = view if view in VIEWS else "desktop"
    html = _PIXEL.sub("", message.html) if message.html else None
    return render_template("sent_mail/message.html", message=message, html=html, view=view, views=VIEWS)
