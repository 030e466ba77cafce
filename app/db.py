"""Engine and sessions: one engine per process, one session per app context."""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator

import orjson
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        settings.instance_path.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            settings.database_url,
            connect_args={"timeout": 30, "check_same_thread": False},
            json_serializer=json_dumps, json_deserializer=json_loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(settings.database_url, pool_pre_ping=True, pool_size=10,
                         json_serializer=json_dumps, json_deserializer=json_loads)


def json_dumps(value: Any) -> str:
    """JSON columns (enrollment state, attributes, traces) are written and read on every step:
    orjson, several times faster than the standard library; the standard library still takes
    what orjson refuses (integers past 64 bits), so nothing that stored before fails now."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def json_loads(value: Any) -> Any:
    """orjson, except for what SQLite hands back already converted: a JSON column has NUMERIC
    affinity there, so a bare number (a workspace setting such as 3 or 0.1) comes back as one."""
    if isinstance(value, (int, float)):
        return value
    return orjson.loads(value)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the web process read while a worker writes; busy_timeout makes
    # concurrent writers wait instead of failing with "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Database:
    """Flask extension: `db.session` is the current app context's session."""

    def __init__(self) -> None:
        self._factory: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        settings: Settings = app.config["SETTINGS"]
        engine = make_engine(settings)
        app.extensions["db_engine"] = engine
        app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
        app.teardown_appcontext(self._teardown)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["db_engine"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["db_sessionmaker"]()
        return g.db_session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit on success, roll back on any error."""
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    @staticmethod
    def _teardown(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
