"""GET /journeys/<id>/analytics: the journey's report as JSON, the same figures as its report page
and the canvas overlay (app/services/analytics/report.py)."""
from __future__ import annotations

from typing import Literal

from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from app import clock
from app.api import bp
from app.api.routing import ApiCall, operation
from app.db import db
from app.services import journeys
from app.services.analytics.report import journey_report

TAG = "Journeys"
Share = float | None


class RatesOut(BaseModel):
    delivery: Share = Field(description="delivered / sent")
    bounce: Share = Field(description="bounced (hard or soft) / sent")
    open: Share = Field(description="unique human opens / delivered")
    click: Share = Field(description="unique human clickers / delivered")
    click_to_open: Share = Field(description="unique human clickers / unique human openers")
    unsubscribe: Share = Field(description="unsubscribes through the email's link / delivered")
    complaint: Share = Field(description="spam complaints / delivered")
    conversion: Share = Field(description="emails with a credited order / delivered")
    revenue_per_recipient: Share = Field(description="credited revenue / delivered")


class SendOut(BaseModel):
    sent: int
    delivered: int = Field(description="Sent and not hard-bounced.")
    bounced: int
    hard_bounced: int
    complained: int
    unsubscribed: int
    opened: int = Field(description="Unique human opens (emails a person opened).")
    opened_any: int = Field(description="Unique opens, machines included.")
    opens_total: int = Field(description="Every open, machines included.")
    opens_machine: int = Field(description="Opens flagged as a machine's (Apple's proxy, prefetch, scanners).")
    clicked: int = Field(description="Unique human clickers (emails with a person's click).")
    clicked_links: int = Field(description="Unique human clicks per email and link.")
    clicks_total: int
    clicks_machine: int
    conversions: int = Field(description="Orders credited (last touch).")
    converted: int = Field(description="Emails with at least one credited order.")
    revenue: str = Field(description="Credited revenue, a decimal string in the workspace's currency.")
    rates: RatesOut


class NodeOut(BaseModel):
    type: str | None = Field(description="The node's type in the live graph; null: no longer in it.")
    reached: int
    waiting: int
    passed: int
    exited: dict[str, int] = Field(description="Contacts who left the journey at this node, by reason.")
    outcomes: dict[str, int]
    send: SendOut | None = None
    variants: dict[str, SendOut] | None = Field(default=None, description="A send node's figures per A/B variant.")


class ZOut(BaseModel):
    z: float
    p_value: float
    difference: float


class VariantOut(BaseModel):
    key: str
    label: str | None
    weight: float
    recipients: int
    clicked: int
    converted: int
    revenue: str
    click_rate: Share
    conversion_rate: Share
    p_best_click: Share = Field(description="Posterior probability that this variant's click rate is the highest.")
    p_best_conversion: Share
    z_click: ZOut | None = Field(description="Two-proportion z-test against the first variant.")
    z_conversion: ZOut | None
    short_by: int = Field(description="Recipients still missing for the split's minimum sample.")


class RuleOut(BaseModel):
    metric: Literal["click", "conversion"]
    min_recipients: int
    probability: float


class WinnerOut(BaseModel):
    variant: str
    metric: str
    probability: float
    decided_at: str
    decided_by: str


class SplitOut(BaseModel):
    node: str
    status: Literal["collecting", "running", "winner"] = Field(
        description="collecting: not enough data yet; running: enough data, no winner; winner: chosen.")
    enough_data: bool
    auto_winner: bool
    rule: RuleOut
    leader: str | None
    winner: WinnerOut | None
    variants: list[VariantOut]


class IntervalOut(BaseModel):
    estimate: float
    low: float
    high: float
    level: float


class GroupOut(BaseModel):
    contacts: int
    converted: int
    revenue: str
    conversion_rate: Share
    revenue_per_contact: Share


class LiftOut(BaseModel):
    window_days: int
    mailed: GroupOut
    holdout: GroupOut
    conversion_lift: IntervalOut | None
    revenue_per_contact_lift: IntervalOut | None
    revenue_caused: IntervalOut | None = Field(description="Per-contact lift × mailed contacts.")
    currency: str
    reading: str


class JourneyRef(BaseModel):
    id: int
    name: str
    status: str
    live_version: int | None


class AttributionOut(BaseModel):
    model: str
    click_days: int
    open_days: int


class TimelineOut(BaseModel):
    days: list[str]
    series: dict[str, list[float]] = Field(description="entered, sent, opened, clicked, conversions, revenue per day.")


class AnalyticsOut(BaseModel):
    journey: JourneyRef
    generated_at: str
    currency: str
    attribution: AttributionOut
    entered: int
    inside: int
    completed: int
    exited: dict[str, int]
    goals_reached: int
    emails: SendOut
    nodes: dict[str, NodeOut]
    ab: list[SplitOut]
    lift: LiftOut | None
    timeline: TimelineOut


@operation(bp, "GET", "/journeys/<int:journey_id>/analytics", summary="Journey analytics", tag=TAG,
           scope="journeys:read", result=AnalyticsOut,
           description="Per node: reached, waiting, passed, exits by reason; per send node and variant: sent, "
                       "delivered, bounced, opened, clicked, unsubscribed, complained, credited orders and revenue, "
                       "with rates (unique human actions over delivered emails); A/B results with the probability "
                       "to be best; the holdout lift with a 95% interval; figures per day. The same numbers as the "
                       "journey's report page and the canvas.")
def journey_analytics(call: ApiCall, journey_id: int) -> ResponseReturnValue:
    journey = journeys.get_journey(db.session, journey_id)
    return AnalyticsOut.model_validate(journey_report(db.session, journey, clock.now()))
