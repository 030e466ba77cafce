"""The Journeys web app: `create_app()` builds it from settings."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from app.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, static_folder=str(ROOT / "static"),
                template_folder=str(ROOT / "templates"),
                instance_path=str(settings.instance_path))
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="journeys_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_max_seconds),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session it belongs to
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        TEMPLATES_AUTO_RELOAD=settings.development,
    )
    app.config.update(overrides or {})
    if settings.trusted_proxy_count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    _init_extensions(app)
    _register_blueprints(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app import metrics, problems, redis_conn, security, ui
    from app.auth import access
    from app.db import db

    db.init_app(app)
    redis_conn.init_app(app)
    security.init_app(app)
    access.init_app(app)
    problems.init_app(app)
    metrics.init_app(app)
    ui.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from app import api
    from app.api.shop_webhooks import bp as shop_webhooks_bp
    from app.auth.views import bp as auth_bp
    from app.web.api_keys import bp as api_keys_bp
    from app.web.api_reference import bp as api_reference_bp
    from app.web.ops import bp as ops_bp
    from app.web.pages import bp as pages_bp
    from app.web.settings import bp as settings_bp
    from app.web.journey_preview import bp as journey_preview_bp
    from app.web.templates_studio import bp as templates_studio_bp
    from app.web.workspace_settings import bp as workspace_settings_bp

    for bp in (ops_bp, auth_bp, pages_bp, settings_bp, api_keys_bp, api_reference_bp, templates_studio_bp,
               journey_preview_bp, workspace_settings_bp):
        app.register_blueprint(bp)
    from app.web.journey_panels import bp as journey_panels_bp
    from app.web.journey_publish import bp as journey_publish_bp
    from app.web.journey_simulator import bp as journey_simulator_bp
    from app.web.journeys import bp as journeys_bp

    for bp in (journeys_bp, journey_panels_bp, journey_publish_bp, journey_simulator_bp):
        app.register_blueprint(bp)
    from app.web.sources import bp as sources_bp

    app.register_blueprint(sources_bp)
    from app.api.bounces import bp as bounce_webhooks_bp
    from app.web.audit import bp as audit_bp
    from app.web.contacts import bp as contacts_bp
    from app.web.deliverability import bp as deliverability_bp
    from app.web.public import bp as public_bp
    from app.web.suppressions import bp as suppressions_bp

    for bp in (contacts_bp, audit_bp, deliverability_bp, suppressions_bp, public_bp):
        app.register_blueprint(bp)
    from app.web.analytics import bp as analytics_bp
    from app.web.tracking import bp as tracking_bp

    for bp in (analytics_bp, tracking_bp):  # tracking: public, token-authenticated GETs
        app.register_blueprint(bp)
    if app.config["SETTINGS"].development:  # the outbox read as an inbox: never in production
        from app.web.sent_mail import bp as sent_mail_bp

        app.register_blueprint(sent_mail_bp)
    api.init_app(app)
    app.register_blueprint(shop_webhooks_bp)  # signed by the shops, not by API keys
    app.register_blueprint(bounce_webhooks_bp)  # signed by SNS/SendGrid or carrying the bounce token
