"""The tracking URLs in sent emails: `/t/c/<token>` (a click, redirected) and `/t/o/<token>.gif`
(the open pixel). Public, no sign-in: the signed token is the only key, and a GET is all they
take (so no CSRF question). A click redirects only to the URL stored for its token when the
message was rendered; nothing in the request can choose the destination.
"""
from __future__ import annotations

import base64

from flask import Blueprint, Response, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue

from app import clock
from app.db import db
from app.errors import NotFound
from app.security import client_ip
from app.services import tracking, workspace

bp = Blueprint("tracking", __name__)

#: A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@bp.after_request
def _private(response: Response) -> Response:
    # Each fetch must reach us to be counted, and the pages name no one to a search engine. (The app's
    # Referrer-Policy, strict-origin-when-cross-origin, already keeps the token out of the shop's logs.)
    response.headers["Cache-Control"] = "no-store, no-cache, max-age=0"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _visit() -> tracking.Visit:
    return tracking.Visit(user_agent=request.user_agent.string or "", ip=client_ip(), method=request.method,
                          now=clock.now())


@bp.get("/t/c/<token>")
def click(token: str) -> ResponseReturnValue:
    try:
        recorded = tracking.click(db.session, current_app.config["SETTINGS"], token, _visit())
    except NotFound as exc:
        shop = workspace.current(db.session).shop_name
        return render_template("public/message.html", shop=shop, heading="Link not valid", text=exc.detail), 404
    return redirect(recorded.url or "/", code=302)


@bp.get("/t/o/<token>.gif")
def pixel(token: str) -> ResponseReturnValue:
    try:
        tracking.open_(db.session, current_app.config["SETTINGS"], token, _visit())
    except NotFound:
        return Response(status=404)
    return Response(PIXEL, mimetype="image/gif")
