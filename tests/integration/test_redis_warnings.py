"""Startup warns when Redis could drop our jobs and locks."""
from __future__ import annotations

from app.redis_conn import startup_warnings


def test_an_evicting_redis_is_named_at_startup_and_a_safe_one_is_not(rconn):
    before = rconn.config_get("maxmemory-policy")["maxmemory-policy"]
    try:
        rconn.config_set("maxmemory-policy", "noeviction")
        assert startup_warnings(rconn) == []
        rconn.config_set("maxmemory-policy", "allkeys-lru")
        [warning] = startup_warnings(rconn)
        assert "'allkeys-lru'" in warning and "noeviction" in warning
    finally:
        rconn.config_set("maxmemory-policy", before)
