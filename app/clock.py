"""The app's one clock. Everything time-dependent asks here, so tests can set it."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

_source: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def now() -> datetime:
    """The current time, aware, in UTC."""
    return _source()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests, the simulator); None restores the real one."""
    global _source
    _source = source or (lambda: datetime.now(timezone.utc))
