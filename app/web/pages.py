"""The workspace's home. The sections have blueprints of their own (Analytics: app/web/analytics.py)."""
from __future__ import annotations

from flask import Blueprint, redirect, url_for

from app.auth.access import requires

bp = Blueprint("web", __name__)


@bp.get("/")
@requires("viewer")
def home():  # type: ignore[no-untyped-def]
    return redirect(url_for("journeys.index"))
