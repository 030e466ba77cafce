"""Machine-readable results for the benchmarks, gathered by bench/run_all into one table.

Each benchmark keeps its own human lines and, given `--json`, ends with one line
`BENCH-RESULTS [...]`: a JSON list of rows, one per figure, each with the value, the
reference measured in the same run, the target and whether it passed.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable

MARKER = "BENCH-RESULTS "


@dataclass
class Result:
    figure: str
    value: float
    unit: str = ""
    reference: float | None = None  # measured in the same run, on the same machine
    reference_label: str = ""
    target: float | None = None  # None: a figure to read, not to pass
    on: str = "value"  # what the target is compared with: value | ratio (value / reference)
    better: str = "higher"  # higher | lower
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.reference in (None, 0):
            return None
        return self.value / self.reference  # type: ignore[operator]

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.on == "ratio" else self.value
        if measured is None:
            return False
        return measured >= self.target if self.better == "higher" else measured <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "passed": self.passed}


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help=f"end with one line '{MARKER.strip()} [...]' for bench/run_all")


def emit(results: Iterable[Result], enabled: bool) -> None:
    if enabled:
        print(MARKER + json.dumps([r.as_dict() for r in results]), flush=True)


def parse(output: str) -> list[dict[str, Any]]:
    """The rows of a benchmark's output (the last marker line), or [] when it printed none."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    return []
