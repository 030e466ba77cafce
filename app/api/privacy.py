"""The contact's rights over the API: erase (GDPR Art. 17) and export (Art. 20).

Both are recorded in the audit log with the API key that asked.
"""
from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from app import clock
from app.api import bp
from app.api.routing import ApiCall, operation
from app.db import db
from app.services import erasure, export
from app.services.contacts import get_contact

TAG = "Contacts"


class Erased(BaseModel):
    id: int = Field(description="The contact's id; its row stays, pseudonymized, so statistics hold.")
    erased: bool = True
    rows: dict[str, int] = Field(description="Rows changed per table.")


class ContactExport(BaseModel):
    """Everything stored about the contact (the format is described in docs/consent.md)."""

    format: int
    exported_at: str
    contact: dict[str, Any]
    consent: list[dict[str, Any]]
    suppression: dict[str, Any] | None
    bounces: list[dict[str, Any]]
    events: list[dict[str, Any]]
    enrollments: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    webhook_calls: list[dict[str, Any]]
    pending_carts: list[dict[str, Any]]
    privacy_requests: list[dict[str, Any]]
    audit: list[dict[str, Any]]


@operation(bp, "DELETE", "/contacts/<int:contact_id>", summary="Erase a contact (GDPR Art. 17)", tag=TAG,
           scope="contacts:write", result=Erased, result_description="Erased.",
           errors=((409, "The contact was erased already."),),
           description="Deletes or pseudonymizes the contact's personal data everywhere it is stored (the "
           "contact, its events' payloads, messages, journey state, webhook calls, carts, privacy requests, "
           "audit entries), exits its journeys, and puts the address's hash on the suppression list so a "
           "later event or webhook for the same address creates a contact that gets no marketing mail. "
           "Counts in journey statistics stay. 409 when the contact was erased already.")
def erase_contact(call: ApiCall, contact_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        contact = get_contact(s, contact_id)
        rows = erasure.erase(s, contact, actor=call.source, now=clock.now(), reason="API request")
    return {"id": contact_id, "erased": True, "rows": rows}, 200


@operation(bp, "GET", "/contacts/<int:contact_id>/export",
           summary="Export everything stored about a contact (GDPR Art. 20)", tag=TAG, scope="contacts:read", result=ContactExport, result_description="The document.",
           description="One JSON document with everything stored about the contact: attributes, consent "
           "records, suppression and bounces, events with their payloads, enrollments with their trace, "
           "messages, webhook calls, pending carts, privacy requests and the audit entries about them.")
def export_contact(call: ApiCall, contact_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        doc = export.export(s, get_contact(s, contact_id), actor=call.source, now=clock.now())
    return doc, 200
