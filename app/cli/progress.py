"""A progress bar for long command-line work (imports, backups, restores, the demo, benchmarks).

    with progress.bar(total=os.path.getsize(path), label="Importing", unit="bytes") as bar:
        for chunk in ...:
            bar.advance(len(chunk))

It draws on standard error, and only when that is a terminal: piped into a file, a log or
a test, a command's output stays exactly its result lines. `JOURNEYS_PROGRESS=0` silences
it on a terminal too, `=1` forces it (to watch a run through `script` or `tee`).
"""
from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import IO

import click


def wanted(stream: IO[str] | None = None) -> bool:
    """Whether a bar should be drawn on `stream` (default: standard error)."""
    choice = os.environ.get("JOURNEYS_PROGRESS", "").strip().lower()
    if choice in ("0", "no", "off", "false"):
        return False
    if choice in ("1", "yes", "on", "true"):
        return True
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Bar:
    """A bar over `total` units; `advance(n)` as work is done. Quiet when `enabled` is False.

    The total may be learnt late (`set(done, total=...)`, as SQLite's backup reports its pages):
    the bar appears once it is known.
    """

    def __init__(self, total: int | None, label: str, *, unit: str = "", enabled: bool | None = None,
                 stream: IO[str] | None = None) -> None:
        self.total = total
        self.done = 0
        self.label, self.unit = label, unit
        self.stream = stream or sys.stderr
        self.enabled = wanted(self.stream) if enabled is None else enabled
        self._bar = None  # type: ignore[var-annotated]
        self._entered = False

    def _start(self) -> None:
        if self._bar is not None or not self.enabled or not self._entered or not self.total:
            return
        self._bar = click.progressbar(length=self.total, label=self.label, file=self.stream,
                                      show_pos=self.unit not in ("bytes", "pages"),
                                      item_show_func=lambda _: self._suffix())
        self._bar.__enter__()
        if self.done:
            self._bar.update(self.done)

    def _suffix(self) -> str:
        if self.unit == "bytes":
            return _size(self.done) + (f" of {_size(self.total)}" if self.total else "")
        return self.unit

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._start()
        if self._bar is not None:
            self._bar.update(n)

    def set(self, done: int, total: int | None = None) -> None:
        """Move to an absolute position (for a callback that reports how far it got)."""
        if total and not self.total:
            self.total = total
        if done > self.done:
            self.advance(done - self.done)

    def __enter__(self) -> Bar:
        self._entered = True
        self._start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, exc, tb)
            self._bar = None


def bar(total: int | None, label: str, *, unit: str = "", enabled: bool | None = None,
        stream: IO[str] | None = None) -> Bar:
    return Bar(total, label, unit=unit, enabled=enabled, stream=stream)


def _size(n: int | None) -> str:
    value = float(n or 0)
    for suffix in ("B", "KB", "MB", "GB"):
        if value < 1024 or suffix == "GB":
            return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.1f} {suffix}"
        value /= 1024
    return f"{value:.1f} GB"
