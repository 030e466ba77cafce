"""Migrations upgrade an empty database of each kind to head."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from app import migrate

TABLES = {"users", "user_sessions", "contacts", "events", "audit_log", "alembic_version",
          "templates", "template_versions", "journeys", "journey_versions", "enrollments",
          "enrollment_steps", "messages", "suppressions", "webhook_calls", "webhook_hosts",
          "api_keys",
          "sources", "shop_deliveries", "pending_carts", "privacy_requests", "workspace_settings"}


def _postgres_server_url() -> str | None:
    for url in (os.environ.get("TEST_POSTGRES_URL"), os.environ.get("DATABASE_URL")):
        if url and url.startswith("postgresql"):
            return url
    return None


def test_empty_sqlite_database_upgrades_to_head(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/fresh.db")
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    migrate.upgrade(engine)  # a second run is a no-op
    engine.dispose()


def test_empty_postgres_database_upgrades_to_head():
    server = _postgres_server_url()
    if server is None:
        pytest.skip("no PostgreSQL configured (set DATABASE_URL or TEST_POSTGRES_URL)")
    name = f"journeys_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = create_engine(admin.url.set(database=name))
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_keeps_existing_rows(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO contacts (email, attributes, tags, subscription_status, created_at, updated_at)"
            " VALUES ('a@example.com', '{}', '[]', 'subscribed', '2026-01-01', '2026-01-01')"))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT email, orders_count, total_spent FROM contacts")).one()
    assert row[0] == "a@example.com" and row[1] == 0 and float(row[2]) == 0
    engine.dispose()


def test_models_and_migrations_agree(app):
    """Autogenerate finds nothing to add: every model change came with a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from app.models import Base

    with app.extensions["db_engine"].connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
