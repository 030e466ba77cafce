"""`POST /api/v1/webhooks/shopify/<source>` and `/woocommerce/<source>`: the shops' own payloads.

Authenticated by each shop's HMAC signature, not by API keys, so this is a blueprint of its
own: no Bearer key, no CSRF token, its own body limit and a rate limit per source. The routes
are declared with `operation`, so the OpenAPI document describes them like any other.
"""
from __future__ import annotations

import logging
from typing import Literal

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field
from werkzeug.exceptions import HTTPException

from app import clock, jobs
from app.api.routing import ApiCall, operation
from app.db import db
from app.errors import AppError
from app.models import SourceKind
from app.security import csrf, limiter
from app.services import shop_webhooks

log = logging.getLogger(__name__)

bp = Blueprint("shop_webhooks", __name__, url_prefix="/api/v1")
TAG = "Shop webhooks"

#: Bytes a shop's delivery may have: large orders run to hundreds of kilobytes, and a delivery
#: refused for its size is an order lost, so this is more generous than the API's own limit.
MAX_BODY_BYTES = 5 * 1024 * 1024
#: Deliveries per source (flask-limiter notation), unless SHOP_WEBHOOK_RATE_LIMIT says otherwise.
DEFAULT_RATE_LIMIT = "3000/minute"


def _rate_limit() -> str:
    return str(current_app.config.get("SHOP_WEBHOOK_RATE_LIMIT", DEFAULT_RATE_LIMIT))


def _per_source() -> str:
    return f"source:{(request.view_args or {}).get('source', '')[:64]}"


# A shop signs its deliveries; no browser session is involved, so there is no CSRF token to check.
csrf.exempt(bp)
limiter.limit(_rate_limit, key_func=_per_source)(bp)


@bp.before_request
def _limit_body() -> None:
    request.max_content_length = MAX_BODY_BYTES


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class WebhookReceipt(BaseModel):
    """What became of a delivery."""

    status: Literal["stored", "known_event", "duplicate", "ignored", "unknown_topic", "rejected", "privacy",
                    "ping"] = Field(description="stored (202); every other outcome is acknowledged with 200.")
    event_id: int | None = Field(default=None, description="The event stored (or already stored) for it.")
    detail: str | None = Field(default=None, description="Why it was ignored or rejected, in a sentence.")


SIGNED = ("Authenticated by the shop's own signature ({header}: base64 HMAC-SHA256 of the raw body with "
          "the source's secret), not an API key: unknown sources and bad signatures get 401, nothing stored. "
          "A repeated {delivery} answers 200 and stores nothing. See docs/integrations.md.")
RESULT = "Stored: an event was made from the delivery."
ACKNOWLEDGED = ((200, "Acknowledged without a new event: a duplicate, a known event, an ignored or unknown "
                      "topic, a privacy request, WooCommerce's ping."),)
REFUSALS = ((400, "A header the shop always sends is missing or malformed, or the body is not JSON."),
            (401, "No enabled source has this URL, or the signature is missing or does not match."),
            (413, "The body is larger than 5 MiB."))


@operation(bp, "POST", "/webhooks/shopify/<source>", summary="Receive a Shopify webhook", tag=TAG, scope=None,
           status=202, result=WebhookReceipt, result_description=RESULT, also=ACKNOWLEDGED, errors=REFUSALS,
           description=SIGNED.format(header="X-Shopify-Hmac-Sha256", delivery="X-Shopify-Webhook-Id"))
def shopify_webhook(call: ApiCall, source: str) -> ResponseReturnValue:
    return _receive("shopify", source)


@operation(bp, "POST", "/webhooks/woocommerce/<source>", summary="Receive a WooCommerce webhook", tag=TAG,
           scope=None, status=202, result=WebhookReceipt, result_description=RESULT, also=ACKNOWLEDGED,
           errors=REFUSALS,
           description=SIGNED.format(header="X-WC-Webhook-Signature", delivery="X-WC-Webhook-Delivery-ID")
           + " WooCommerce's unsigned ping (`webhook_id=N`, form-encoded) is answered 200.")
def woocommerce_webhook(call: ApiCall, source: str) -> ResponseReturnValue:
    return _receive("woocommerce", source)


def _receive(kind: str, source: str) -> ResponseReturnValue:
    try:
        receipt = shop_webhooks.receive(db.session, SourceKind(kind), source, request.headers,
                                        request.get_data(cache=True), clock.now())
    except (AppError, HTTPException) as exc:
        status = exc.status if isinstance(exc, AppError) else exc.code
        log.warning("%s webhook to source %s refused with %s: %s%s", kind, source, status,
                    getattr(exc, "detail", exc), _WOO_WARNING if kind == "woocommerce" else "")
        raise
    except Exception:
        log.exception("%s webhook to source %s failed with a server error%s", kind, source,
                      _WOO_WARNING if kind == "woocommerce" else "; Shopify will retry it")
        raise
    if receipt.stored:
        jobs.kick_events()
    body = {"status": receipt.outcome, "event_id": receipt.event_id, "detail": receipt.detail}
    return {k: v for k, v in body.items() if v is not None}, receipt.status


_WOO_WARNING = (" — WooCommerce does not retry and disables a webhook after 5 failed deliveries in a row; "
                "check WooCommerce → Settings → Advanced → Webhooks")
