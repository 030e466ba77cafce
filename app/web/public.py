"""The pages a contact reaches from an email, with no sign-in: unsubscribe, preferences, confirm.

Each URL carries a signed token (the only authentication), so the POSTs need no CSRF token: a
forger would need the token, and with it they could do no more than the link already allows.
A GET never changes anything (mail scanners and link previews fetch every URL in a message);
the one-click POST of RFC 8058 unsubscribes at once and answers 200, with no redirect.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app import clock
from app.db import db
from app.errors import NotFound, ValidationFailed
from app.models import Contact, SubscriptionStatus
from app.security import client_ip, csrf
from app.services import contact_links, double_opt_in, unsubscribe, workspace

bp = Blueprint("public", __name__)
# Token-authenticated (see the module's docstring): no session, so no CSRF token to check.
csrf.exempt(bp)


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _page(name: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    ws = workspace.current(db.session)
    return render_template(f"public/{name}.html", shop=ws.shop_name, **context), status


def _gone(exc: NotFound) -> ResponseReturnValue:
    return _page("message", 404, heading="Link not valid", text=exc.detail)


def _who() -> dict[str, str | None]:
    return {"ip": client_ip(), "user_agent": request.user_agent.string or None}


@bp.get("/u/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    settings = current_app.config["SETTINGS"]
    try:
        visitor = unsubscribe.from_unsubscribe_token(db.session, settings, token)
    except NotFound as exc:
        return _gone(exc)
    return _page("unsubscribe", visitor=visitor, done=False,
                 preferences=contact_links.preferences_url(settings, visitor.contact.id))


@bp.post("/u/<token>")
def unsubscribe_post(token: str) -> ResponseReturnValue:
    """RFC 8058: `List-Unsubscribe=One-Click` posted by the mailbox provider, or our page's button."""
    settings = current_app.config["SETTINGS"]
    method = "one-click" if request.form.get("List-Unsubscribe") == "One-Click" else "page"
    try:
        with db.transaction() as s:
            visitor = unsubscribe.from_unsubscribe_token(s, settings, token)
            unsubscribe.unsubscribe(s, visitor, now=clock.now(), method=method, **_who())
    except NotFound as exc:
        return _gone(exc)
    return _page("unsubscribe", visitor=visitor, done=True,
                 preferences=contact_links.preferences_url(settings, visitor.contact.id))


@bp.get("/preferences/<token>")
def preferences_page(token: str) -> ResponseReturnValue:
    try:
        visitor = unsubscribe.from_preferences_token(db.session, current_app.config["SETTINGS"], token)
    except NotFound as exc:
        return _gone(exc)
    return _page("preferences", visitor=visitor, saved=False, error=None)


@bp.post("/preferences/<token>")
def preferences_post(token: str) -> ResponseReturnValue:
    settings = current_app.config["SETTINGS"]
    try:
        with db.transaction() as s:
            visitor = unsubscribe.from_preferences_token(s, settings, token)
            unsubscribe.set_preference(s, visitor, request.form.get("marketing", ""), now=clock.now(),
                                       wording=workspace.current(s).consent_wording, **_who())
    except NotFound as exc:
        return _gone(exc)
    except ValidationFailed as exc:
        visitor = unsubscribe.from_preferences_token(db.session, settings, token)
        return _page("preferences", 422, visitor=visitor, saved=False, error=exc.detail)
    return _page("preferences", visitor=visitor, saved=True, error=None)


def _confirmation(token: str) -> tuple[Contact, str]:
    try:
        found = double_opt_in.read_token(current_app.config["SETTINGS"], token)
    except double_opt_in.LinkExpired:
        raise NotFound(f"This confirmation link is more than {double_opt_in.LINK_DAYS} days old. "
                       "Subscribe again and we will send you a new one.") from None
    contact = db.session.get(Contact, found[0]) if found else None
    if found is None or contact is None or contact.erased_at is not None:
        raise NotFound(unsubscribe.INVALID)
    return contact, found[1]


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    try:
        contact, _ = _confirmation(token)
    except NotFound as exc:
        return _gone(exc)
    return _page("confirm", state=_state(contact))


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> ResponseReturnValue:
    try:
        with db.transaction() as s:
            contact, key = _confirmation(token)
            if contact.subscription_status == SubscriptionStatus.unconfirmed:
                confirmed = double_opt_in.confirm(s, contact, key, now=clock.now(),
                                                  wording=workspace.current(s).consent_wording, **_who())
                state = "confirmed" if confirmed is not None else "blocked"
            else:
                state = _state(contact)
    except NotFound as exc:
        return _gone(exc)
    return _page("confirm", state=state)


def _state(contact: Contact) -> str:
    """What the confirmation page says: ask (awaiting the click), already, or stale."""
    if contact.subscription_status == SubscriptionStatus.unconfirmed:
        return "ask"
    return "already" if contact.subscription_status == SubscriptionStatus.subscribed else "stale"
