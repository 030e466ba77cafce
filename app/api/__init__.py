"""The HTTP API under /api/v1: Bearer API keys, JSON in, JSON or problem+json out.

Route modules declare their routes with `app.api.routing.operation` on `bp`; `init_app`
imports them, so adding a module to ROUTE_MODULES is all a new resource needs.
"""
from __future__ import annotations

from importlib import import_module

from flask import Blueprint, Flask, Response, current_app, request

from app.security import client_ip, csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")

ROUTE_MODULES = ("app.api.events", "app.api.contacts", "app.api.templates", "app.api.journeys", "app.api.privacy",
                 "app.api.analytics", "app.api.openapi")


def _rate_limit() -> str:
    return current_app.config["SETTINGS"].api_rate_limit


def _rate_limit_key() -> str:
    """Per API key (by its hash, known before the key is looked up), else per client address."""
    from app.api.auth import bearer_token
    from app.services.api_keys import digest

    token = bearer_token()
    return f"key:{digest(token)[:32]}" if token else f"ip:{client_ip()}"


# Bearer keys, never cookies, authenticate here: a forged cross-site request carries no key.
csrf.exempt(bp)
limiter.limit(_rate_limit, key_func=_rate_limit_key)(bp)


@bp.before_request
def _limit_body() -> None:
    request.max_content_length = current_app.config["SETTINGS"].api_max_body_bytes


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    for name in ROUTE_MODULES:
        import_module(name)
    app.register_blueprint(bp)
