"""The workspace's main sections. Later issues fill Journeys, Templates and Analytics."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from app.auth.access import requires
from app.db import db
from app.services import contacts as contact_service

bp = Blueprint("web", __name__)


@bp.get("/")
@requires("viewer")
def home():  # type: ignore[no-untyped-def]
    return redirect(url_for("web.journeys"))


@bp.get("/journeys")
@requires("viewer")
def journeys():  # type: ignore[no-untyped-def]
    return render_template("journeys/index.html")


@bp.get("/contacts")
@requires("viewer")
def contacts():  # type: ignore[no-untyped-def]
    query = request.args.get("q", "").strip()
    page = contact_service.search(db.session, query=query,
                                  page=request.args.get("page", 1, type=int))
    template = "contacts/_rows.html" if request.headers.get("HX-Request") else "contacts/index.html"
    return render_template(template, page=page, q=query)


@bp.get("/analytics")
@requires("viewer")
def analytics():  # type: ignore[no-untyped-def]
    return render_template("analytics/index.html")
