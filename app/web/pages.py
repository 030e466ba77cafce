"""The workspace's main sections. Later issues fill Journeys, Templates and Analytics."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from app.auth.access import requires

bp = Blueprint("web", __name__)


@bp.get("/")
@requires("viewer")
def home():  # type: ignore[no-untyped-def]
    return redirect(url_for("journeys.index"))


@bp.get("/analytics")
@requires("viewer")
def analytics():  # type: ignore[no-untyped-def]
    return render_template("analytics/index.html")
