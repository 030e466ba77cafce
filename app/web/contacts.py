"""The contact pages: the list (search and filters) and one contact in full, with its rights.

The detail answers "why didn't they get the email?": consent and its history, suppression,
every enrollment with its trace, every message with its outcome. Viewing a contact is a
personal-data operation and goes in the audit log; so do consent changes made here, exports
and erasures (admins only; erasure asks for the address to be typed again).
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import clock
from app.auth.access import requires
from app.db import db
from app.errors import AppError, ValidationFailed
from app.models import SubscriptionStatus
from app.services import consent, contacts as contact_service, erasure, export, suppressions
from app.web.explain import REASONS

bp = Blueprint("contacts", __name__)
STATUSES = [s.value for s in SubscriptionStatus]


def _filters() -> dict[str, Any]:
    args = request.args
    name, value = args.get("attr", "").strip(), args.get("value", "").strip()
    return {"q": args.get("q", "").strip(), "status": args.get("status", "").strip(),
            "tag": args.get("tag", "").strip(), "attr": name, "value": value}


@bp.get("/contacts")
@requires("viewer")
def index() -> ResponseReturnValue:
    f = _filters()
    error = None
    try:
        page = contact_service.search(db.session, query=f["q"], status=f["status"] or None, tag=f["tag"] or None,
                                      attribute=(f["attr"], f["value"]) if f["attr"] else None,
                                      page=request.args.get("page", 1, type=int))
    except ValidationFailed as exc:
        error, page = exc.detail, contact_service.search(db.session, page=1)
    template = "contacts/_rows.html" if request.headers.get("HX-Request") else "contacts/index.html"
    return render_template(template, page=page, filters=f, statuses=STATUSES, error=error), 422 if error else 200


@bp.get("/contacts/<int:contact_id>")
@requires("viewer")
def detail(contact_id: int) -> ResponseReturnValue:
    return _detail(contact_id)


def _detail(contact_id: int, status: int = 200, errors: dict[str, str] | None = None) -> ResponseReturnValue:
    with db.transaction() as s:
        info = contact_service.contact_detail(s, contact_id, viewer=current_user.email,
                                              viewer_id=current_user.id, now=clock.now())
    return render_template("contacts/detail.html", d=info, history=consent.history(db.session, contact_id),
                           suppression=suppressions.of_contact(db.session, info.contact), reasons=REASONS,
                           errors=errors or {}), status


@bp.post("/contacts/<int:contact_id>/consent")
@requires("marketer")
def change_consent(contact_id: int) -> ResponseReturnValue:
    status, note = request.form.get("status", ""), request.form.get("note", "").strip()
    if status not in ("subscribed", "unsubscribed") or not note:
        return _detail(contact_id, 422, {"consent": "Choose subscribed or unsubscribed and say why "
                                                    "(e.g. \"asked by phone on 3 May\")."})
    with db.transaction() as s:
        contact = contact_service.get_contact(s, contact_id)
        record = consent.change(s, contact, "marketing", status, source="admin", now=clock.now(),
                                actor=current_user.email, actor_id=current_user.id, details={"note": note[:300]})
    if record is None:
        flash("Nothing changed: the contact already had that consent, or its address is suppressed.", "info")
    else:
        flash(f"Marketing consent is now {record.status}.", "success")
    return redirect(url_for("contacts.detail", contact_id=contact_id))


@bp.get("/contacts/<int:contact_id>/export")
@requires("admin")
def export_json(contact_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        doc = export.export(s, contact_service.get_contact(s, contact_id), actor=current_user.email,
                            actor_id=current_user.id, now=clock.now())
    body = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="contact-{contact_id}.json"', "Cache-Control": "no-store"})


@bp.post("/contacts/<int:contact_id>/erase")
@requires("admin")
def erase(contact_id: int) -> ResponseReturnValue:
    typed = request.form.get("confirm", "").strip().lower()
    contact = contact_service.get_contact(db.session, contact_id)
    if typed != contact.email:
        return _detail(contact_id, 422, {"erase": "Type the contact's email address exactly to confirm the erasure."})
    try:
        with db.transaction() as s:
            contact = contact_service.get_contact(s, contact_id)
            erasure.erase(s, contact, actor=current_user.email, actor_id=current_user.id,
                          reason=request.form.get("reason", ""), now=clock.now())
    except AppError as exc:
        return _detail(contact_id, exc.status, {"erase": exc.detail})
    flash(f"Contact {contact_id} is erased: its personal data is gone and its address is suppressed.", "success")
    return redirect(url_for("contacts.detail", contact_id=contact_id))
