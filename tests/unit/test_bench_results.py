"""The benchmarks' machine-readable rows and bench/run_all's table of them."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from results import MARKER, Result, emit, parse  # noqa: E402


def run_all():  # type: ignore[no-untyped-def]
    loader = importlib.machinery.SourceFileLoader("run_all", str(ROOT / "bench" / "run_all"))
    spec = importlib.util.spec_from_loader("run_all", loader)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["run_all"] = module  # its dataclasses look their module up
    loader.exec_module(module)
    return module


def test_a_target_applies_to_the_value_or_to_the_ratio_in_the_right_direction():
    assert Result("rate", 30_000, "steps/s", target=20_000).passed is True
    assert Result("rate", 10_000, "steps/s", target=20_000).passed is False
    assert Result("p99", 12, "ms", target=25, better="lower").passed is True
    assert Result("render", 3_000, reference=1_000, target=3.0, on="ratio").passed is True
    assert Result("render", 2_900, reference=1_000, target=3.0, on="ratio").passed is False
    assert Result("no reference", 5, target=1.0, on="ratio").passed is False
    assert Result("informational", 5).passed is None and Result("x", 5, reference=0).ratio is None


def test_rows_survive_the_json_line_and_only_the_last_one_counts(capsys):
    emit([Result("a", 1.5, "x", 3.0, "ref", 0.4, on="ratio")], enabled=True)
    emit([Result("ignored", 1)], enabled=False)
    out = capsys.readouterr().out
    assert out.startswith(MARKER) and out.count("\n") == 1
    rows = parse("human line\n" + out)
    assert rows[0]["figure"] == "a" and rows[0]["ratio"] == 0.5 and rows[0]["passed"] is True
    assert parse("no marker here\n") == []


def test_the_table_shows_value_reference_ratio_target_and_result():
    module = run_all()
    rows = [Result("engine: wake-up", 8_800, "steps/s", 282_000, "bare UPDATE", 20_000).as_dict(),
            Result("ingest: p99", 12.5, "ms", target=25, better="lower").as_dict(),
            Result("render: ratio", 3_300, "renders/s", 1_000, "bare mjml2html", 3.0, on="ratio").as_dict()]
    text = module.table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["figure", "value", "reference", "(same", "run)", "ratio", "target", "result"]
    assert "8,800 steps/s" in lines[2] and "282,000 steps/s bare UPDATE" in lines[2] and "≥ 20,000 steps/s" in lines[2]
    assert lines[2].endswith("MISS") and lines[3].endswith("pass") and "≤ 25.00 ms" in lines[3]
    assert "ratio ≥ 3" in lines[4] and "3.30" in lines[4]
    assert {b.name for b in module.BENCHES} == {p.name.removesuffix("_bench.py")
                                                for p in (ROOT / "bench").glob("*_bench.py")}
