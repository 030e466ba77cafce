"""Security headers (CSP with nonces), CSRF on every form and htmx request, rate limits."""
from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from app.config import Settings

csrf = CSRFProtect()
talisman = Talisman()
# No X-RateLimit-* headers on every answer: they cost two Redis round trips per request (as
# much as the limit itself). A 429 still says when to come back: see problems.retry_after().
limiter = Limiter(key_func=get_remote_address, default_limits=[], swallow_errors=True,
                  in_memory_fallback_enabled=True, headers_enabled=False,
                  key_prefix="journeys:limits")

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def limiter_storage_uri(settings: Settings) -> str:
    url = settings.effective_redis_url
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


def init_app(app: Flask) -> None:
    settings: Settings = app.config["SETTINGS"]
    production = not settings.development
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the reverse proxy; HSTS tells browsers to stay there
        strict_transport_security=production,
        strict_transport_security_max_age=31536000,
        session_cookie_secure=production,
        session_cookie_http_only=True,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
    )
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(settings))
    limiter.init_app(app)


def client_ip() -> str:
    return request.remote_addr or "unknown"
