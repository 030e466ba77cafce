"""Render benchmark: personalised renders per second against bare mjml2html, same run.

Reads the 25 MJML templates of ../shared/corpus/mjml (or $JOURNEYS_CORPUS),
adds a greeting and a loop over cart items to each, and measures (a) bare
mjml2html compiles per second of the raw templates and (b) personalised
renders per second through Renderer with a warm cache (a different contact
each render), with p50/p99 latency, in alternating short rounds. Target: (b) at
least 3x (a).

    .venv/bin/python bench/render_bench.py [--seconds 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from results import Result, add_json_flag, emit  # noqa: E402

from mjml import mjml2html  # noqa: E402

from journeys.rendering import Renderer, TemplateSource  # noqa: E402

TARGET = 3.0
GREETING = "Hi {{ contact.first_name|default('there') }}, "
CART = ('<mj-text>{% for item in event["items"] %}{{ item.title }}: {{ "%.2f"|format(item.price) }}'
        ' x{{ item.quantity }}<br/>{% endfor %}<a href="{{ recovery_url }}">Back to your cart</a> '
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>')


def corpus() -> list[Path]:
    folder = Path(os.environ.get("JOURNEYS_CORPUS") or ROOT.parent / "shared" / "corpus" / "mjml")
    return sorted(folder.glob("*.mjml"))


def personalise(mjml: str) -> str:
    """Greeting in the first body mj-text, cart loop before the first column closes."""
    body = mjml.find("<mj-body")
    first = mjml.find("<mj-text", body)
    if first >= 0:
        close = mjml.index(">", first) + 1
        mjml = mjml[:close] + GREETING + mjml[close:]
    column_end = mjml.find("</mj-column>", body)
    if column_end >= 0:
        mjml = mjml[:column_end] + CART + mjml[column_end:]
    return mjml


def context(i: int) -> dict[str, object]:
    return {
        "contact": {"first_name": f"Contact {i}", "email": f"c{i}@example.com"},
        "event": {"items": [{"title": f"Product {i % 50}", "price": 10 + i % 90, "quantity": 1 + i % 3},
                            {"title": "Wool Beanie", "price": 79.0, "quantity": 1}]},
        "recovery_url": f"https://shop.example/recover/{i}",
        "unsubscribe_url": f"https://journeys.example/u/{i}",
    }


def bare_round(sources: list[str], seconds: float, state: dict[str, float]) -> None:
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        mjml2html(sources[(int(state["count"]) + count) % len(sources)])
        count += 1
    state["count"] += count
    state["seconds"] += time.perf_counter() - began


def personalised_round(renderer: Renderer, compiled: list[Any], seconds: float, state: dict[str, float],
                       latencies: list[float]) -> None:
    count, began = int(state["count"]), time.perf_counter()
    while time.perf_counter() - began < seconds:
        one = time.perf_counter()
        renderer.render(compiled[count % len(compiled)], context(count),
                        rewrite_link=lambda url: "https://t.example/c?u=" + url)
        latencies.append(time.perf_counter() - one)
        count += 1
    state["seconds"] += time.perf_counter() - began
    state["count"] = count


def measure(raw: list[str], sources: list[TemplateSource], seconds: float,
            rounds: int = 10) -> tuple[float, float, list[float]]:
    """Both rates over the same stretch of time: short rounds, alternating, so a load that
    comes and goes on the machine weighs on the reference and the measured side alike."""
    renderer = Renderer()
    compiled = [renderer.compile(s, key=f"t{i}@1") for i, s in enumerate(sources)]
    print(f"compile modes: {', '.join(sorted({c.mode for c in compiled}))}")
    bare = {"count": 0.0, "seconds": 0.0}
    mine = {"count": 0.0, "seconds": 0.0}
    latencies: list[float] = []
    for _ in range(rounds):
        bare_round(raw, seconds / rounds, bare)
        personalised_round(renderer, compiled, seconds / rounds, mine, latencies)
    return bare["count"] / bare["seconds"], mine["count"] / mine["seconds"], latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    add_json_flag(parser)
    args = parser.parse_args()
    paths = corpus()
    if not paths:
        print("no MJML corpus found (../shared/corpus/mjml or $JOURNEYS_CORPUS): nothing to measure")
        emit([], args.json)
        return
    raw = [p.read_text() for p in paths]
    sources = [TemplateSource("Hi {{ contact.first_name }}", personalise(text)) for text in raw]
    print(f"templates: {len(paths)} from {paths[0].parent}")
    bare, rate, latencies = measure(raw, sources, args.seconds)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"bare mjml2html: {bare:,.1f} renders/s")
    print(f"personalised (cached compile): {rate:,.1f} renders/s, "
          f"p50 {cuts[49] * 1000:.2f} ms, p99 {cuts[98] * 1000:.2f} ms")
    ratio = rate / bare
    print(f"ratio: {ratio:.1f}x (target >= {TARGET:g}x) {'PASS' if ratio >= TARGET else 'FAIL'}")
    emit([Result("render: personalised renders/s (cached compile)", rate, "renders/s", bare, "bare mjml2html",
                 TARGET, on="ratio"),
          Result("render: p99 latency", cuts[98] * 1000, "ms", note="informational")], args.json)


if __name__ == "__main__":
    main()
