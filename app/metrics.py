"""Prometheus metrics: request counts and latency per endpoint, RQ queue depths."""
from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from app import queues


class QueueDepthCollector:
    """Reads queue lengths from Redis at scrape time, so they are never stale."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):  # type: ignore[no-untyped-def]
        gauge = GaugeMetricFamily("journeys_queue_depth", "Jobs waiting in each RQ queue",
                                  labels=["queue"])
        failed = GaugeMetricFamily("journeys_queue_failed", "Failed jobs kept per RQ queue",
                                   labels=["queue"])
        with self.app.app_context():
            for name, depth, failed_count in queues.depths():
                gauge.add_metric([name], depth)
                failed.add_metric([name], failed_count)
        yield gauge
        yield failed


def init_app(app: Flask) -> None:
    registry = CollectorRegistry()
    requests_total = Counter("journeys_http_requests_total", "HTTP requests",
                             ["endpoint", "method", "status"], registry=registry)
    latency = Histogram("journeys_http_request_duration_seconds", "HTTP request latency",
                        ["endpoint", "method"], registry=registry)
    registry.register(QueueDepthCollector(app))
    from app.gauges import EngineCollector

    registry.register(EngineCollector(app))  # due enrollments, stuck messages, scheduler, bounce ratios
    app.extensions["metrics_registry"] = registry

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        started = g.pop("request_started", None)
        endpoint = request.endpoint or "unmatched"
        if started is not None:
            latency.labels(endpoint, request.method).observe(time.perf_counter() - started)
        requests_total.labels(endpoint, request.method, str(response.status_code)).inc()
        return response


def render(app: Flask) -> Response:
    registry = app.extensions["metrics_registry"]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Under gunicorn (`journeys web --server gunicorn`) each worker process counts its own
        # requests into files there; a scrape answered by any one of them adds them all up.
        # prometheus_client itself reads this variable, so it is read here and not in Settings.
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(QueueDepthCollector(app))
        from app.gauges import EngineCollector

        registry.register(EngineCollector(app))
    body = generate_latest(registry)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
