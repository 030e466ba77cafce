"""send: mail a template, unless consent, suppression, quiet hours or a cap say no.

The checks run each time the contact arrives and again when a deferral ends,
so an unsubscribe during quiet hours still stops the mail. Quiet hours defer,
never drop; a frequency cap skips by default and defers when asked.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from journeys.effects import SendEmail
from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register


class SendConfig(NodeConfig):
    template: str = Field(min_length=1, max_length=200)
    category: Literal["marketing", "transactional"] = "marketing"
    on_frequency_cap: Literal["skip", "defer"] = "skip"


@register
class SendNode(NodeType[SendConfig]):
    type = "send"
    label = "Send email"
    form = "nodes/send.html"
    config_model = SendConfig

    def enter(self, prepared: SendConfig, ctx: StepContext) -> Outcome:
        refusal = _refusal(prepared, ctx)
        if refusal:
            return Outcome.follow("skipped", reason=refusal)
        if prepared.category == "marketing":
            deferral = _deferral(prepared, ctx)
            if deferral:
                return deferral
            ctx.contact.marketing_sends = (*ctx.contact.marketing_sends, ctx.now)
        variant = ctx.state.variant
        ctx.effects.append(SendEmail(ctx.effect_key(), ctx.node, prepared.template,
                                     prepared.category, variant))
        return Outcome.follow("sent", details={"template": prepared.template, "variant": variant,
                                               "category": prepared.category})

    resume = enter


def _refusal(cfg: SendConfig, ctx: StepContext) -> str | None:
    contact = ctx.contact
    if contact.suppressed:
        return "suppressed"
    if cfg.category == "transactional":
        return None
    if ctx.state.holdout:
        return "holdout"
    consent = contact.consent.get("marketing")
    if consent == "unsubscribed":
        return "unsubscribed"
    if consent == "unconfirmed":
        return "unconfirmed"  # double opt-in pending: no marketing mail whatever the consent mode
    if ctx.policy.consent_mode == "opt_in" and consent != "subscribed":
        return "no_consent"
    return None


def _deferral(cfg: SendConfig, ctx: StepContext) -> Outcome | None:
    settings = ctx.journey.settings
    quiet = settings.quiet_hours or ctx.policy.default_quiet_hours
    if quiet is not None:
        release = quiet.release(ctx.now, ctx.tz)
        if release is not None:
            return Outcome.rest("deferred", release, reason="quiet_hours")
    cap = settings.frequency_cap
    if cap is None:
        return None
    since = cap.per.before(ctx.now)
    recent = sorted(t for t in ctx.contact.marketing_sends if t > since)
    if len(recent) < cap.max:
        return None
    if cfg.on_frequency_cap == "skip":
        return Outcome.follow("skipped", reason="frequency_cap")
    # The cap allows the next send once the oldest send that counts falls out.
    release = recent[len(recent) - cap.max] + (ctx.now - since)
    return Outcome.rest("deferred", release, reason="frequency_cap")
