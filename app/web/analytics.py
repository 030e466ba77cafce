"""Analytics pages: the workspace dashboard (/analytics, each table also as CSV) with the
attribution settings, and a journey's report (/journeys/<id>/report) with its charts.

Figures reach the charts as JSON in a <script type="application/json"> element (the CSP
allows no inline script); static/js/report.js and dashboard.js draw them with Chart.js.
"""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import ValidationFailed
from app.services import journeys as journey_service, workspace
from app.services.analytics import dashboard
from app.services.analytics.report import journey_report

bp = Blueprint("analytics", __name__)
CHART_JS = "vendor/chart.js-4.6.1/chart.umd.min.js"
SETTINGS = {"attribution_click_days": int, "attribution_open_days": int, "lift_window_days": int, "currency": str}


def _period() -> int:
    period = request.args.get("days", 90, type=int)
    return period if period in dashboard.PERIODS else 90


@bp.get("/analytics")
@requires("viewer")
def index() -> ResponseReturnValue:
    return _index()


def _index(errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
           status: int = 200) -> ResponseReturnValue:
    period = _period()
    now = clock.now()
    tables = {name: dashboard.table(db.session, name, now, period) for name in dashboard.TABLES}
    charts = {name: {"header": t.header, "rows": t.rows} for name, t in tables.items()}
    # The tables under the charts list the days something happened, newest first.
    active = {name: [row for row in reversed(t.rows) if any(row[2 if name == "subscribers" else 1:])]
              for name, t in tables.items()}
    return render_template("analytics/index.html", tables=tables, charts=charts, active=active, period=period,
                           periods=dashboard.PERIODS, ws=workspace.current(db.session), chart_js=CHART_JS,
                           errors=errors or {}, form=form or {}), status


@bp.get("/analytics/<name>.csv")
@requires("viewer")
def export(name: str) -> ResponseReturnValue:
    if name not in dashboard.TABLES:
        abort(404)
    table = dashboard.table(db.session, name, clock.now(), _period())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}-{_period()}d.csv"', "Cache-Control": "no-store"})


def _cell(value: Any) -> Any:
    # A journey name is the marketer's text: a leading =, +, - or @ would run as a spreadsheet formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.post("/analytics/settings")
@requires("admin")
def settings() -> ResponseReturnValue:
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, kind in SETTINGS.items():
        raw = request.form.get(name, "").strip()
        if kind is int:
            try:
                changes[name] = int(raw)
            except ValueError:
                errors[name] = "must be a whole number of days"
        else:
            changes[name] = raw.upper()
    if not errors:
        try:
            with db.transaction() as s:
                workspace.update(s, changes, actor=current_user.email, actor_id=current_user.id, now=clock.now())
        except ValidationFailed as exc:
            errors = {p.pointer.strip("/") if p.pointer else "form": p.detail for p in exc.problems()}
    if errors:
        return _index(errors, dict(request.form), 422)
    flash("Attribution settings saved: the figures use them from now on (past orders included).", "success")
    return redirect(url_for("analytics.index"))


@bp.get("/journeys/<int:journey_id>/report")
@requires("viewer")
def report(journey_id: int) -> ResponseReturnValue:
    journey = journey_service.get_journey(db.session, journey_id)
    data = journey_report(db.session, journey, clock.now())
    return render_template("analytics/report.html", journey=journey, report=data, chart_js=CHART_JS)
