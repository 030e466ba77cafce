"""The outgoing send rate, shared by every worker through Redis (the `limits` library).

A sender's reputation suffers when it bursts past what its provider allows:
every delivery, in every worker process on every machine, takes a slot in the
same moving one-second window before it talks to the SMTP server.
"""
from __future__ import annotations

import functools
import logging
import time

import redis
from limits import RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

#: Seconds slept, at least, between two looks at a full window.
POLL = 0.01
#: Seconds the limiter stands aside after Redis failed, so a Redis outage costs one
#: connection timeout per this period, not one per message.
OUTAGE_PAUSE = 10.0
#: The name of the window shared by all workers (limits prefixes its own namespace).
DEFAULT_NAME = "journeys:send"


def storage_uri(redis_url: str) -> str:
    """redis-py names a unix-socket Redis `unix://`; limits wants `redis+unix://`."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


@functools.lru_cache(maxsize=8)
def _storage(uri: str) -> Storage:
    # One connection pool per Redis for the process, not one per delivery job.
    return storage_from_string(uri)


class SendRateLimiter:
    """At most `per_second` sends in any one-second window, across all workers; 0 or less: no limit."""

    def __init__(self, redis_url: str, per_second: int, name: str = DEFAULT_NAME) -> None:
        self.per_second = per_second
        self.name = name
        self._item = RateLimitItemPerSecond(per_second) if per_second > 0 else None
        self._limiter = (MovingWindowRateLimiter(_storage(storage_uri(redis_url)))
                         if per_second > 0 else None)
        self._down_until = 0.0

    def acquire(self, timeout: float) -> bool:
        """Take a slot, waiting up to `timeout` seconds; False when none came free in time.

        When Redis fails, the send goes ahead unlimited (True) and a warning is
        logged: a delivery job that crashed mid-batch would leave its leased
        messages ambiguous, which is worse than a short burst.
        """
        if self._limiter is None or self._item is None or time.monotonic() < self._down_until:
            return True
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while not self._limiter.hit(self._item, self.name):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(left, self._until_free()))
        except (redis.RedisError, OSError) as exc:
            self._down_until = time.monotonic() + OUTAGE_PAUSE
            log.warning("send rate limit unavailable, sending unlimited for %ss: %s", OUTAGE_PAUSE, exc)
        return True

    def _until_free(self) -> float:
        """Seconds until the oldest send in the window leaves it (at least POLL, so we never spin)."""
        assert self._limiter is not None and self._item is not None
        reset_time = self._limiter.get_window_stats(self._item, self.name)[0]
        # reset_time is wall-clock (limits stamps entries with time.time()); another
        # worker may take the slot first, and then we simply wait again.
        return max(POLL, float(reset_time) - time.time())
