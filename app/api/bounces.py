"""`POST /api/v1/webhooks/bounces/<source>`: bounce and complaint notifications from mail providers.

A blueprint of its own, like the shop webhooks: no API key (each provider authenticates its
own way, see app/services/bounce_intake.py), no CSRF token, any content type (SNS posts
text/plain, a DSN is a raw message), a rate limit per provider. Declared with `operation`,
so the OpenAPI document describes it.
"""
from __future__ import annotations

import logging
from typing import Literal

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from app import clock
from app.api.routing import ApiCall, operation
from app.db import db
from app.errors import AppError
from app.security import csrf, limiter
from app.services import bounce_intake

log = logging.getLogger(__name__)

bp = Blueprint("bounce_webhooks", __name__, url_prefix="/api/v1")
#: A SendGrid batch holds up to a few thousand events; a DSN quotes the original message.
MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_RATE_LIMIT = "3000/minute"

csrf.exempt(bp)  # authenticated by signatures and tokens; no browser session is involved
limiter.limit(lambda: str(current_app.config.get("BOUNCE_WEBHOOK_RATE_LIMIT", DEFAULT_RATE_LIMIT)),
              key_func=lambda: f"bounces:{(request.view_args or {}).get('source', '')[:20]}")(bp)


@bp.before_request
def _limit_body() -> None:
    request.max_content_length = MAX_BODY_BYTES


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class BounceReceipt(BaseModel):
    status: Literal["processed", "subscribed", "ignored"] = Field(
        description="processed: the notices were applied; subscribed: an SNS subscription was confirmed; "
                    "ignored: nothing in it concerns deliverability (deliveries, opens, test messages).")
    counts: dict[str, int] = Field(default_factory=dict, description="Notices by outcome: suppressed, "
                                   "soft_bounce (counted, not yet suppressing), duplicate.")


@operation(bp, "POST", "/webhooks/bounces/<source>", summary="Receive bounce and complaint notifications",
           tag="Deliverability", scope=None, result=BounceReceipt, result_description="Applied.",
           errors=((400, "The body is not what the provider sends (not JSON, not a delivery status report)."),
                   (401, "No token, a wrong token, or a missing or forged signature (SNS, SendGrid)."),
                   (404, "No bounce webhook for this source: use ses, sendgrid, postmark or dsn."),
                   (413, "The body is larger than 5 MiB.")),
           description="`source` is ses (Amazon SES via SNS: the SNS signature is verified with the certificate "
           "from SigningCertURL, and SubscriptionConfirmation is confirmed), sendgrid (the event webhook, with "
           "its ECDSA signature when SENDGRID_WEBHOOK_PUBLIC_KEY is set), postmark (bounce and spam complaint "
           "webhooks) or dsn (an RFC 3464 delivery status notification or RFC 5965 feedback report, posted "
           "raw). Except for signed posts, the URL must carry this install's token (`?token=`, shown in "
           "Settings → Deliverability). Hard bounces and complaints suppress the address at once, soft "
           "bounces after repeats. See docs/deliverability.md.")
def bounce_webhook(call: ApiCall, source: str) -> ResponseReturnValue:
    given = request.args.get("token") or (request.authorization.password if request.authorization else None)
    try:
        with db.transaction() as s:
            receipt = bounce_intake.receive(s, current_app.config["SETTINGS"], source, headers=request.headers,
                                            body=request.get_data(cache=True), given_token=given, now=clock.now())
    except AppError as exc:
        log.warning("bounce webhook %s refused with %s: %s", source, exc.status, exc.detail)
        raise
    return {"status": receipt.status, "counts": receipt.counts}, 200
