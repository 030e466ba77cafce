"""Probes for orchestrators and Prometheus: /healthz, /readyz, /metrics."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app import metrics, migrate
from app.db import db
from app.errors import ServiceUnavailable
from app.redis_conn import check as check_redis
from app.redis_conn import get_redis

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    problems = []
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if not migrate.is_current(db.engine):
            problems.append(f"database schema is not at the latest migration "
                            f"({migrate.head_revision()}): run `journeys db upgrade`")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
        problems.append(f"database unreachable: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    try:
        check_redis(get_redis(), current_app.config["SETTINGS"])
    except ServiceUnavailable as exc:
        problems.append(exc.detail)
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ready")


@bp.get("/metrics")
def prometheus():  # type: ignore[no-untyped-def]
    return metrics.render(current_app._get_current_object())  # type: ignore[attr-defined]
