"""Telling opens and clicks made by machines from those made by people, where it can be told.

Apple Mail Privacy Protection fetches every image of a message through Apple's proxies when
the message arrives, whether or not anybody reads it; security gateways (Microsoft Defender's
Safe Links, Mimecast, Proofpoint, Barracuda …) follow every link of a message on delivery;
link previews and scripts fetch URLs with their own user agents. Such hits are recorded and
shown, flagged with the reason, and left out of the "human" rates, the engagement facts the
journeys read and the email_opened/email_clicked events.

The signals, each cheap and explainable: the request's user agent (Apple's proxy sends a bare
"Mozilla/5.0"; scanners and scripts name themselves), its address (Apple's proxies come from
17.0.0.0/8), its method (scanners often probe with HEAD) and its timing (a hit within seconds
of the send is a prefetch or a gateway, not a reader). No detection is perfect: a person behind
a corporate gateway may click through a scanner's request, and a proxy Apple does not announce
looks like a person.
"""
from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from functools import lru_cache

#: Hits this soon after the message was sent come from prefetching proxies and gateways.
PREFETCH_WINDOW = timedelta(seconds=10)
#: Apple's own network: its Mail Privacy Protection proxies fetch from here.
APPLE_NETWORKS = (ipaddress.ip_network("17.0.0.0/8"),)
#: The whole user agent of Apple's image proxy.
APPLE_PROXY_AGENT = "Mozilla/5.0"
#: User agents of link scanners, previewers and scripts (matched anywhere, case-insensitive).
SCANNER_AGENTS = re.compile(
    r"bot\b|crawler|spider|scanner|preview|headless|phantomjs|python-|python/|curl/|wget/|"
    r"go-http-client|okhttp|java/|libwww|httpclient|axios/|node-fetch|"
    r"barracuda|mimecast|proofpoint|symantec|messagelabs|trendmicro|trend micro|forcepoint|sophos|"
    r"fortinet|fortiguard|cisco|ironport|checkpoint|zscaler|safelinks|microsoft office existence|"
    r"ms-office|facebookexternalhit|slackbot|twitterbot|linkedinbot|discordbot|whatsapp|skypeuripreview",
    re.IGNORECASE)


def classify(kind: str, *, user_agent: str, ip: str | None, method: str, sent_at: datetime | None,
             now: datetime) -> str | None:
    """None when the hit looks like a person's, else why it looks like a machine's."""
    agent = user_agent.strip()
    if method == "HEAD":
        return "head_request"
    if kind == "open" and (agent == APPLE_PROXY_AGENT or _apple(ip)):
        return "apple_proxy"
    if not agent:
        return "no_user_agent"
    if SCANNER_AGENTS.search(agent):
        return "scanner"
    if sent_at is not None and now - sent_at < PREFETCH_WINDOW:
        return "prefetch"
    return None


@lru_cache(maxsize=4096)
def _apple(ip: str | None) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in APPLE_NETWORKS)
