"""Settings → Audit log (admins): who did what to what, filterable, paged, never editable.

There is no route that changes an entry; the database refuses edits too (migration 0008).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.auth.access import requires
from app.db import db
from app.services import audit_log, data_requests

bp = Blueprint("audit", __name__, url_prefix="/settings/audit")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/")
@requires("admin")
def index() -> ResponseReturnValue:
    args = request.args
    since, until = _day(args.get("since", "")), _day(args.get("until", ""))
    errors = {name: "Write a date as YYYY-MM-DD." for name in ("since", "until")
              if args.get(name) and _day(args[name]) is None}
    filters = audit_log.Filters(
        actor=args.get("actor", ""), action=args.get("action", ""), target=args.get("target", ""),
        since=datetime.combine(since, time(), timezone.utc) if since else None,
        # "until" names the last day shown, so the bound is the start of the day after it
        until=datetime.combine(until + timedelta(days=1), time(), timezone.utc) if until else None)
    page = audit_log.entries(db.session, filters, page=args.get("page", 1, type=int))
    form = {k: args.get(k, "") for k in ("actor", "action", "target", "since", "until")}
    return render_template("settings/audit.html", page=page, form=form, errors=errors,
                           actions=audit_log.actions(db.session),
                           requests=data_requests.recent(db.session)), 422 if errors else 200
