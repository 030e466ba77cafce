"""Shared fixtures: real databases and a real Redis, never mocks.

Backends follow the environment, as CI runs the suite twice:
- DATABASE_URL unset: a SQLite file in a temporary folder; set: that database
  (its tables are dropped and migrated to head at the start of the run).
- REDIS_URL unset: an embedded Redis started for the run; set: that server
  (its database is flushed between tests).
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
import redis
from sqlalchemy import text

from app import clock, create_app
from app.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def redis_url(instance_dir: Path) -> Iterator[str]:
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    from app import embedded_redis

    folder = instance_dir / "redis"
    proc = embedded_redis.start(folder)
    try:
        yield f"unix://{folder / 'redis.sock'}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def database_url(instance_dir: Path) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'test.db'}"


def environ_for(instance: Path, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {"INSTANCE_PATH": str(instance), "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "SECRET_KEY": "test-secret-key", "JOURNEYS_ENV": "test"}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def settings(instance_dir: Path, database_url: str, redis_url: str) -> Settings:
    return load_settings(environ_for(instance_dir, database_url, redis_url))


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from app import migrate
    from app.db import make_engine

    engine = make_engine(settings)
    reset_database(engine)
    migrate.upgrade(engine)
    engine.dispose()
    application = create_app(settings)
    yield application
    application.extensions["db_engine"].dispose()


def reset_database(engine) -> None:  # type: ignore[no-untyped-def]
    """Drop everything, so the run starts from an empty schema on either backend."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
            for name in list(names):
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    clock.set_source(None)
    _forget_caches()
    if "app" in request.fixturenames:
        application = request.getfixturevalue("app")
        _truncate(application)
        application.extensions["redis"].flushdb()


def _forget_caches() -> None:
    """Tests truncate tables, so ids and timestamps repeat: per-process caches must go too."""
    from app.services import delivery, versions

    versions._cache.clear()
    delivery._renderer._cache.clear()


def _truncate(application) -> None:  # type: ignore[no-untyped-def]
    from app.models import Base

    engine = application.extensions["db_engine"]
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def rconn(app) -> redis.Redis:  # type: ignore[no-untyped-def]
    return app.extensions["redis"]


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


PASSWORD = "correct horse battery"


def make_user(app, email: str, role: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    from app.db import db
    from app.services.users import create_user

    with app.app_context():
        with db.transaction() as s:
            user = create_user(s, email=email, role=role, password=password)
            return user.id


def sign_in(client, email: str, password: str = PASSWORD, ip: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    page = client.get("/login", environ_base={"REMOTE_ADDR": ip})
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def login(app, client):  # type: ignore[no-untyped-def]
    """login("marketer") → a client signed in as a fresh user with that role."""
    def _login(role: str, email: str | None = None):  # type: ignore[no-untyped-def]
        address = email or f"{role}@example.com"
        make_user(app, address, role)
        resp = sign_in(client, address)
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return client

    return _login


def page_csrf(client, path: str = "/settings/account") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the client's session (from the sign-in page once signed out)."""
    resp = client.get(path)
    if resp.status_code == 302:
        resp = client.get("/login")
    return csrf_from(resp.get_data(as_text=True))


def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH", "SECRET_KEY")}
    full_env.update(env)
    return subprocess.run([str(ROOT / ".venv" / "bin" / "journeys"), *args], env=full_env,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def wait_for(predicate: Callable[[], object], timeout: float = 30, every: float = 0.05) -> bool:
    """Whether `predicate()` came true within `timeout` seconds, asked every `every` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())
