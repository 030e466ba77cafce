"""webhook: an outgoing HTTP call, described as an effect; the shell performs it.

A holdout contact passes without a call, as it passes a marketing send without
mail: the control group must not get what the journey does to the others,
and a webhook often is such a treatment (an SMS, a CRM task, a coupon).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from journeys.effects import CallWebhook
from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register


class WebhookConfig(NodeConfig):
    url: str = Field(min_length=1, max_length=2000)
    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(default=None, max_length=100_000)


@register
class WebhookNode(NodeType[WebhookConfig]):
    type = "webhook"
    label = "Webhook"
    form = "nodes/webhook.html"
    config_model = WebhookConfig

    def checks(self, config: WebhookConfig) -> Iterable[tuple[str, str]]:
        parts = urlsplit(config.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            yield "webhook.url", f"{config.url!r} is not an absolute http(s) URL"
        for name, value in config.headers.items():
            if any(c in name + value for c in "\r\n") or not name.strip():
                yield "webhook.header", f"header {name!r} must be one line with a name"

    def enter(self, prepared: WebhookConfig, ctx: StepContext) -> Outcome:
        if ctx.state.holdout:
            return Outcome.follow("skipped", reason="holdout")
        ctx.effects.append(CallWebhook(ctx.effect_key(), ctx.node, prepared.url, prepared.method,
                                       dict(prepared.headers), prepared.body))
        return Outcome.follow("passed")
