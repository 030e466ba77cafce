"""/healthz, /readyz and /metrics as an orchestrator and Prometheus see them."""
from __future__ import annotations

from app import create_app
from app.config import load_settings
from tests.conftest import environ_for


def test_healthz_answers_while_the_process_is_up(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}


def test_readyz_is_ready_with_database_redis_and_current_schema(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "ready"


def test_readyz_names_an_unreachable_redis(tmp_path, database_url, app):
    broken = create_app(load_settings(environ_for(tmp_path, database_url, "redis://127.0.0.1:1/0")))
    resp = broken.test_client().get("/readyz")
    assert resp.status_code == 503
    assert any("redis://127.0.0.1:1/0 is unreachable" in p for p in resp.json["problems"])
    broken.extensions["db_engine"].dispose()


def test_readyz_names_a_schema_that_is_not_migrated(tmp_path, redis_url):
    fresh = create_app(load_settings(environ_for(tmp_path, f"sqlite:///{tmp_path}/empty.db", redis_url)))
    resp = fresh.test_client().get("/readyz")
    assert resp.status_code == 503
    assert any("journeys db upgrade" in p for p in resp.json["problems"])
    fresh.extensions["db_engine"].dispose()


def test_metrics_count_requests_by_endpoint_and_show_queue_depths(app, client):
    from app import queues

    with app.app_context():
        queues.enqueue(queues.DEFAULT, queues.ping)
        queues.enqueue(queues.DEFAULT, queues.ping)
    client.get("/healthz")
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'journeys_http_requests_total{endpoint="ops.healthz",method="GET",status="200"}' in text
    assert "journeys_http_request_duration_seconds_bucket" in text
    assert 'journeys_queue_depth{queue="default"} 2.0' in text
    assert 'journeys_queue_depth{queue="engine"} 0.0' in text


def test_api_style_errors_are_problem_json(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"
    assert resp.json["status"] == 404 and resp.json["title"] == "Not Found"
