"""Rate limits per API key (flask-limiter on Redis): 429 problem+json with Retry-After."""
from __future__ import annotations

from typing import Iterator

import pytest
from flask import Flask

from app import create_app
from tests.api_support import event, make_key
from tests.integration.test_api_events import assert_problem, stored

URL = "/api/v1/events"


@pytest.fixture
def limited(app, settings) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    application = create_app(settings.with_overrides(api_rate_limit="3/minute"))
    yield application
    application.extensions["db_engine"].dispose()


def test_a_key_over_its_limit_gets_429_with_retry_after(limited):
    key = make_key(limited)
    client = limited.test_client()
    for _ in range(3):
        assert client.post(URL, json=event(), headers=key.headers).status_code == 202
    resp = client.post(URL, json=event(), headers=key.headers)
    problem = assert_problem(resp, 429)
    assert "3 per 1 minute" in problem["detail"]
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    assert len(stored(limited)) == 3


def test_each_key_has_its_own_budget(limited):
    first, second = make_key(limited, name="one"), make_key(limited, name="two")
    client = limited.test_client()
    for _ in range(3):
        client.post(URL, json=event(), headers=first.headers)
    assert client.post(URL, json=event(), headers=first.headers).status_code == 429
    assert client.post(URL, json=event(), headers=second.headers).status_code == 202


def test_requests_without_a_key_are_limited_by_address(limited):
    client = limited.test_client()
    statuses = [client.post(URL, json=event()).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    other = client.post(URL, json=event(), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 401


def test_the_default_limit_is_generous_and_configurable(settings):
    from app.config import load_settings
    from app.errors import ConfigError
    from tests.conftest import environ_for

    assert settings.api_rate_limit == "6000/minute" and settings.api_max_body_bytes == 1024 * 1024
    env = environ_for(settings.instance_path, settings.database_url, settings.effective_redis_url,
                      API_RATE_LIMIT="100/second;6000/minute", API_MAX_BODY_BYTES="2048")
    custom = load_settings(env)
    assert custom.api_rate_limit == "100/second;6000/minute" and custom.api_max_body_bytes == 2048
    for name, value, says in [("API_RATE_LIMIT", "lots", "is not a rate limit"),
                              ("API_MAX_BODY_BYTES", "0", "1 or more"),
                              ("API_MAX_BODY_BYTES", "1MB", "whole number")]:
        with pytest.raises(ConfigError, match=says):
            load_settings({**env, name: value})
