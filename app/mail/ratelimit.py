"""The outgoing send rate, shared by every worker through Redis (the `limits` library).

A sender's reputation suffers when it bursts: every delivery job waits for a
slot in the same moving one-second window, however many workers run.
"""
from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

#: Seconds between two looks at a full window.
POLL = 0.02


def storage_uri(redis_url: str) -> str:
    """limits names a unix-socket Redis `redis+unix://`; redis-py says `unix://`."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


class SendRateLimiter:
    def __init__(self, redis_url: str, per_second: int, name: str = "journeys:send") -> None:
        self.per_second = per_second
        self.name = name
        self._item = RateLimitItemPerSecond(per_second) if per_second > 0 else None
        self._limiter = (MovingWindowRateLimiter(storage_from_string(storage_uri(redis_url)))
                         if per_second > 0 else None)

    def acquire(self, timeout: float) -> bool:
        """Take a slot, waiting up to `timeout` seconds; False when none came free."""
        if self._limiter is None or self._item is None:
            return True
        deadline = time.monotonic() + timeout
        while not self._limiter.hit(self._item, self.name):
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)
        return True
