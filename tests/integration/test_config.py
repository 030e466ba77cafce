"""Configuration: working defaults, and one clear line when something is wrong."""
from __future__ import annotations

import pytest

from app.config import load_settings
from app.errors import ConfigError


def test_defaults_put_everything_under_the_instance_folder(tmp_path):
    s = load_settings({"INSTANCE_PATH": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path}/journeys.db"
    assert s.embedded_redis and s.effective_redis_url == f"unix://{tmp_path}/redis.sock"
    assert s.outbox_path == tmp_path / "outbox"
    assert s.development and not s.log_json


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = load_settings({"INSTANCE_PATH": str(tmp_path)}).secret_key
    second = load_settings({"INSTANCE_PATH": str(tmp_path)}).secret_key
    assert len(first) == 64 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    other = load_settings({"INSTANCE_PATH": str(tmp_path / "other")}).secret_key
    assert other != first  # two instances never share state


def test_production_refuses_to_start_without_a_secret(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_settings({"INSTANCE_PATH": str(tmp_path), "JOURNEYS_ENV": "production"})
    s = load_settings({"INSTANCE_PATH": str(tmp_path), "JOURNEYS_ENV": "production", "SECRET_KEY": "k"})
    assert s.log_json and not s.development


@pytest.mark.parametrize("url, message", [
    ("mysql://root@localhost/db", "supports PostgreSQL"),
    ("postgresql+psycopg2://u@h/db", "Journeys uses psycopg 3"),
    ("not a url", "is not a database URL"),
])
def test_bad_database_urls_are_explained(tmp_path, url, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url})


def test_plain_postgres_urls_get_the_psycopg_driver(tmp_path):
    for url in ("postgres://u@h/db", "postgresql://u@h/db"):
        s = load_settings({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url})
        assert s.database_url == "postgresql+psycopg://u@h/db"


def test_bad_redis_url_is_explained(tmp_path):
    with pytest.raises(ConfigError, match="is not a Redis URL"):
        load_settings({"INSTANCE_PATH": str(tmp_path), "REDIS_URL": "localhost:6379"})


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="JOURNEYS_ENV"):
        load_settings({"INSTANCE_PATH": str(tmp_path), "JOURNEYS_ENV": "staging"})
