"""How the demo's shoppers behave: how often they do what (Odds), and how soon (Pace)."""
from __future__ import annotations

from dataclasses import dataclass

#: Shoppers a minute when none is asked for.
DEFAULT_RATE = 10.0
#: Mail clients and browsers the shoppers read with. A bare "Mozilla/5.0" is Apple's Mail
#: Privacy Protection proxy: those opens are recorded and flagged as machine opens.
READERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.12.2",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
)
APPLE_PROXY = "Mozilla/5.0"


@dataclass(frozen=True)
class Pace:
    """Seconds between a step and the next (uniform in each range)."""
    checkout_update: tuple[float, float] = (5, 25)
    checkout_order: tuple[float, float] = (20, 75)
    confirm: tuple[float, float] = (15, 90)
    #: After the message was written: past the tracker's 10-second prefetch window, as people are.
    open: tuple[float, float] = (15, 300)
    click: tuple[float, float] = (4, 60)
    order_after_click: tuple[float, float] = (30, 180)
    scan_every: float = 3.0
    report_every: float = 60.0


@dataclass(frozen=True)
class Odds:
    signup: float = 0.25  # an arrival only signs up; else a checkout, else (returning) a direct order
    checkout: float = 0.5
    new_shopper: float = 0.35  # a checkout by somebody new (who is created first)
    subscribes: float = 0.85  # a new customer ticks "email me news and offers"
    completes: float = 0.45  # a checkout ends in an order
    grows: float = 0.4  # a checkout update adds an item
    discount: float = 0.15
    confirms: float = 0.8
    opens: float = 0.55
    apple_proxy: float = 0.12  # of opens
    clicks: float = 0.35  # of opens
    unsubscribes: float = 0.015  # of opens
    orders_after_click: float = 0.25
