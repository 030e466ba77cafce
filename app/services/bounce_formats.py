"""What each provider's bounce and complaint notification says, in one shape: `Notice`.

Field names follow the providers' documented payloads: Amazon SES notifications (the
`Message` of an SNS notification: notificationType, bounce.bouncedRecipients, complaint.
complainedRecipients), the SendGrid event webhook (a JSON array of events: bounce with
type bounce|blocked, dropped, spamreport), Postmark's bounce and spam-complaint webhooks
(RecordType, Type, Email) and RFC 3464 delivery status notifications (plus RFC 5965
feedback reports, the format mailbox providers' complaint loops use), posted raw.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from app.errors import BadRequest
from app.models import BounceKind

_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_ADDRESS = re.compile(r"[^\s<>;\"']+@[^\s<>;\"']+")


@dataclass(frozen=True)
class Notice:
    email: str
    kind: BounceKind
    provider: str
    #: The provider's code and text (addresses taken out before it is stored).
    diagnostic: str = ""
    #: Our Message-ID header when the notice quotes it (`<…@…>`).
    message_id: str | None = None
    #: Names this notice for deduplication within the provider.
    dedupe_key: str | None = None


def _clip(text: Any) -> str:
    return " ".join(str(text or "").split())[:400]


def _address(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    found = _ADDRESS.search(value)
    return found.group(0).strip(".,").lower() if found else None


# Amazon SES ----------------------------------------------------------------------------------

def ses(message: dict[str, Any], sns_message_id: str) -> list[Notice]:
    kind = message.get("notificationType") or message.get("eventType")
    mail = message.get("mail") if isinstance(message.get("mail"), dict) else {}
    ours = _ses_message_id(mail)
    if kind == "Bounce":
        bounce = message.get("bounce") if isinstance(message.get("bounce"), dict) else {}
        # Permanent: the address is gone. Transient (full mailbox …) and Undetermined: maybe later.
        severity = BounceKind.hard if bounce.get("bounceType") == "Permanent" else BounceKind.soft
        return [Notice(email, severity, "ses",
                       _clip(f"{bounce.get('bounceType')}/{bounce.get('bounceSubType')} {r.get('status', '')} "
                             f"{r.get('diagnosticCode', '')}"),
                       ours, f"ses:{sns_message_id}:{email}")
                for r in _records(bounce.get("bouncedRecipients")) if (email := _address(r.get("emailAddress")))]
    if kind == "Complaint":
        complaint = message.get("complaint") if isinstance(message.get("complaint"), dict) else {}
        return [Notice(email, BounceKind.complaint, "ses", _clip(complaint.get("complaintFeedbackType") or "complaint"),
                       ours, f"ses:{sns_message_id}:{email}")
                for r in _records(complaint.get("complainedRecipients")) if (email := _address(r.get("emailAddress")))]
    return []  # Delivery and other event types say nothing against the address


def _records(value: Any) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _ses_message_id(mail: dict[str, Any]) -> str | None:
    common = mail.get("commonHeaders") if isinstance(mail.get("commonHeaders"), dict) else {}
    if isinstance(common.get("messageId"), str):
        return common["messageId"]
    for header in _records(mail.get("headers")):
        if str(header.get("name", "")).lower() == "message-id" and isinstance(header.get("value"), str):
            return header["value"]
    return None


# SendGrid ------------------------------------------------------------------------------------

#: A `dropped` event's reason names SendGrid's own suppression list the address is on.
_DROPPED = {"bounced address": BounceKind.hard, "invalid": BounceKind.hard,
            "spam reporting address": BounceKind.complaint}


def sendgrid(body: bytes) -> list[Notice]:
    events = _json(body)
    if not isinstance(events, list):
        raise BadRequest("A SendGrid event webhook posts a JSON array of events.")
    out = []
    for event in events:
        if not isinstance(event, dict) or not (email := _address(event.get("email"))):
            continue
        name, kind = event.get("event"), None
        if name == "bounce":
            # type bounce: the receiving server refused the address; blocked: refused us, for now.
            kind = BounceKind.soft if event.get("type") == "blocked" else BounceKind.hard
        elif name in ("spamreport", "spam_report"):
            kind = BounceKind.complaint
        elif name == "dropped":
            kind = _DROPPED.get(str(event.get("reason", "")).lower())
        if kind is None:
            continue  # delivered, deferred (still retrying), opens, clicks …
        ident = event.get("sg_event_id")
        out.append(Notice(email, kind, "sendgrid", _clip(f"{name} {event.get('status', '')} {event.get('reason', '')}"),
                          event.get("smtp-id") if isinstance(event.get("smtp-id"), str) else None,
                          f"sendgrid:{ident}" if isinstance(ident, str) and ident else None))
    return out


# Postmark ------------------------------------------------------------------------------------

_POSTMARK_HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}
_POSTMARK_SOFT = {"SoftBounce", "Transient", "DnsError", "Blocked", "SpamNotification", "DMARCPolicy"}


def postmark(body: bytes) -> list[Notice]:
    record = _json(body)
    if not isinstance(record, dict):
        raise BadRequest("A Postmark webhook posts one JSON object.")
    email, kind_name = _address(record.get("Email")), record.get("Type")
    if record.get("RecordType") == "SpamComplaint" or kind_name == "SpamComplaint":
        kind = BounceKind.complaint
    elif record.get("RecordType") == "Bounce" and kind_name in _POSTMARK_HARD:
        kind = BounceKind.hard
    elif record.get("RecordType") == "Bounce" and kind_name in _POSTMARK_SOFT:
        kind = BounceKind.soft
    else:
        return []  # auto-responders, subscribe requests, deliveries, opens …
    if email is None:
        return []
    ident = record.get("ID")
    return [Notice(email, kind, "postmark", _clip(f"{kind_name} {record.get('Details', '')}"), None,
                   f"postmark:{record.get('RecordType')}:{ident}" if ident is not None else None)]


# RFC 3464 / RFC 5965 -------------------------------------------------------------------------

def dsn(body: bytes) -> list[Notice]:
    """A delivery status notification (or a feedback report) posted as the raw message."""
    report: Message = message_from_bytes(body, policy=policy.default)
    param = report.get_param("report-type") if report.get_content_type() == "multipart/report" else None
    kind = param.lower() if isinstance(param, str) else ""
    if kind == "feedback-report":
        return _feedback(report)
    if kind != "delivery-status":
        raise BadRequest("The body is not a delivery status notification: RFC 3464 says multipart/report; "
                         "report-type=delivery-status (or feedback-report for a complaint).")
    status_part = next((p for p in report.walk() if p.get_content_type() == "message/delivery-status"), None)
    if status_part is None:
        raise BadRequest("The report has no message/delivery-status part.")
    original = _original_id(report)
    report_id = str(report.get("Message-ID") or "")
    out = []
    for fields in _status_groups(status_part)[1:]:  # the first group is per message, the rest per recipient
        action = fields.get("action", "").lower()
        email = _address(fields.get("final-recipient") or fields.get("original-recipient"))
        code = _STATUS.search(fields.get("status", ""))
        if action != "failed" or email is None:
            continue  # delayed, delivered, relayed, expanded: not a bounce
        kind = BounceKind.hard if code and code.group(1) == "5" else BounceKind.soft
        out.append(Notice(email, kind, "dsn", _clip(f"{fields.get('status', '')} {fields.get('diagnostic-code', '')}"),
                          original, f"dsn:{report_id}:{email}" if report_id else None))
    return out


def _status_groups(part: Message) -> list[dict[str, str]]:
    """The field groups of a message/delivery-status body (RFC 3464 section 2.1)."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the parser already split it into header blocks
        return [{k.lower(): str(v) for k, v in block.items()} for block in payload]
    text = payload if isinstance(payload, str) else ""
    groups = []
    for block in re.split(r"\r?\n\s*\r?\n", text.strip()):
        fields: dict[str, str] = {}
        for line in re.sub(r"\r?\n[ \t]+", " ", block).splitlines():
            name, _, value = line.partition(":")
            if value:
                fields[name.strip().lower()] = value.strip()
        groups.append(fields)
    return groups


def _feedback(report: Message) -> list[Notice]:
    part = next((p for p in report.walk() if p.get_content_type() == "message/feedback-report"), None)
    fields = _status_groups(part)[0] if part is not None else {}
    original = _original(report)
    email = _address(fields.get("original-rcpt-to"))
    if email is None and original is not None:
        email = _address(str(original.get("To", "")))
    if email is None:
        raise BadRequest("The feedback report names no recipient (Original-Rcpt-To, or the original's To).")
    report_id = str(report.get("Message-ID") or "")
    return [Notice(email, BounceKind.complaint, "dsn", _clip(fields.get("feedback-type", "abuse")),
                   str(original.get("Message-ID")) if original is not None and original.get("Message-ID") else None,
                   f"arf:{report_id}:{email}" if report_id else None)]


def _original(report: Message) -> Message | None:
    for part in report.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return payload[0]
            if isinstance(payload, str):
                return message_from_bytes(payload.encode("utf-8", "replace"), policy=policy.default)
    return None


def _original_id(report: Message) -> str | None:
    original = _original(report)
    value = original.get("Message-ID") if original is not None else None
    return str(value) if value else None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not JSON.") from None

