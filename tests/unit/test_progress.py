"""The CLI's progress bar: drawn on a terminal, silent in pipes, logs and tests."""
from __future__ import annotations

import io

from app.cli import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_the_stream_is_not_a_terminal(monkeypatch):
    monkeypatch.delenv("JOURNEYS_PROGRESS", raising=False)
    out = io.StringIO()
    with progress.bar(100, "Importing", stream=out) as bar:
        bar.advance(50)
        bar.set(100)
    assert out.getvalue() == "" and bar.done == 100


def test_drawn_on_a_terminal_and_forced_or_silenced_by_the_environment(monkeypatch):
    monkeypatch.delenv("JOURNEYS_PROGRESS", raising=False)
    out = Terminal()
    with progress.bar(2048, "Backing up", unit="bytes", stream=out) as bar:
        bar.set(1024)
        bar.set(2048)
    assert "Backing up" in out.getvalue() and "100%" in out.getvalue() and "2.0 KB" in out.getvalue()
    monkeypatch.setenv("JOURNEYS_PROGRESS", "0")
    assert not progress.wanted(Terminal())
    monkeypatch.setenv("JOURNEYS_PROGRESS", "1")
    assert progress.wanted(io.StringIO())


def test_a_total_learnt_late_starts_the_bar_then(monkeypatch):
    monkeypatch.delenv("JOURNEYS_PROGRESS", raising=False)
    out = Terminal()
    with progress.bar(None, "Restoring", unit="pages", stream=out) as bar:
        bar.set(5)  # no total yet: nothing drawn, the count kept
        assert out.getvalue() == ""
        bar.set(10, total=10)
    assert "Restoring" in out.getvalue() and bar.done == 10
