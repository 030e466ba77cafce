"""The Redis connection: jobs, locks and rate-limit counters live there, nothing else."""
from __future__ import annotations

import redis
from flask import Flask, current_app

from app.config import Settings
from app.errors import ServiceUnavailable


def connect(settings: Settings) -> redis.Redis:
    """A client for the configured Redis (does not connect until first used)."""
    return redis.Redis.from_url(
        settings.effective_redis_url, socket_timeout=5, socket_connect_timeout=3,
        health_check_interval=30,
    )


def check(conn: redis.Redis, settings: Settings) -> None:
    """Raise one clear ServiceUnavailable line when Redis cannot be reached."""
    try:
        conn.ping()
    except redis.RedisError as exc:
        if settings.embedded_redis:
            hint = (f"the embedded Redis does not answer on {settings.redis_socket}: "
                    "start everything with `journeys up`, or set REDIS_URL")
        else:
            hint = f"REDIS_URL={settings.redis_url} is unreachable ({exc}); check that Redis runs there"
        raise ServiceUnavailable(f"Redis: {hint}.") from None


def init_app(app: Flask) -> None:
    app.extensions["redis"] = connect(app.config["SETTINGS"])


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]


def startup_warnings(conn: redis.Redis) -> list[str]:
    """Settings under which Redis could lose our jobs or locks."""
    found = []
    try:
        policy = conn.config_get("maxmemory-policy").get("maxmemory-policy", "noeviction")
        if policy != "noeviction":
            found.append(f"Redis maxmemory-policy is {policy!r}: it may evict queued jobs "
                         "and locks; set it to 'noeviction'.")
    except redis.ResponseError:
        pass  # managed Redis services often forbid CONFIG; nothing to check then
    version = str(conn.info("server").get("redis_version", "0"))
    if tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) < (6, 2):
        found.append(f"Redis {version} is older than 6.2, which Journeys needs.")
    return found
