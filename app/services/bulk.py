"""Set-based writes of many rows without SQLAlchemy's per-row parameter work.

An advancing batch writes hundreds of enrollments and traces per job, and
SQLAlchemy's `construct_params` cost more per row than the database itself.
Here the statement is compiled once per dialect, each column's own bind
processor (the same conversions SQLAlchemy would apply: UTC datetimes, JSON,
booleans) is looked up once, and the rows go to the driver's executemany.
Reads of a batch's worth of rows get the same care: `among` sends a batch's ids
as one parameter, and `JSONRead` parses a JSON column in one call per value.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import String, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement, ColumnElement
from sqlalchemy.types import UserDefinedType


@dataclass(frozen=True)
class _Prepared:
    statement: ClauseElement  # held, so the id it is cached under is never reused
    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: tuple[Callable[[Any], Any] | None, ...]


_prepared: dict[tuple[int, str], _Prepared] = {}
_MISSING = object()


def executemany(db: Session, statement: ClauseElement, rows: Sequence[dict[str, Any]]) -> int:
    """Run `statement` for every row; returns the rows matched. Runs in the session's transaction.

    `statement` must be built once (a module constant: it is cached by identity), with a
    bindparam for every key it reads from the rows.
    """
    if not rows:
        return 0
    conn = db.connection()
    prepared = _prepare(statement, conn.dialect)
    names = prepared.names
    get = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    converting = [(i, proc) for i, proc in enumerate(prepared.processors) if proc is not None]
    # A batch repeats its timestamps (`now`, one wake time for everybody the same wait holds):
    # each distinct datetime is converted once per call, not once per row.
    seen: dict[Any, Any] = {}
    params: list[Any] = []
    for row in rows:
        values = list(get(row))
        for i, proc in converting:
            value = values[i]
            if value.__class__ is datetime:
                converted = seen.get(value, _MISSING)
                if converted is _MISSING:
                    converted = seen[value] = proc(value)
                values[i] = converted
            else:
                values[i] = proc(value)
        params.append(tuple(values) if prepared.positional else dict(zip(names, values)))
    return conn.exec_driver_sql(prepared.sql, params).rowcount


def _prepare(statement: ClauseElement, dialect: Any) -> _Prepared:
    key = (id(statement), dialect.name)
    prepared = _prepared.get(key)
    if prepared is None:
        compiled = statement.compile(dialect=dialect)
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
        # The dialect's own implementation: a TypeDecorator's generic impl would hand SQLite's
        # driver datetime objects to adapt (another text format, deprecated in Python 3.12).
        processors = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                           for name in names)
        prepared = _prepared[key] = _Prepared(statement, compiled.string, names, positional, processors)
    return prepared


class JSONRead(UserDefinedType[Any]):
    """A JSON column as a batch reads it: `type_coerce(column, JSONRead())` in a select.

    SQLAlchemy's JSON result processing on SQLite takes four Python calls per value, and a
    wake-up reads three JSON values per contact; this takes one. PostgreSQL's driver parses
    JSON itself (with the engine's deserializer), so there it adds nothing.
    """
    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "JSON"

    def result_processor(self, dialect: Any, coltype: Any) -> Callable[[Any], Any] | None:
        return _sqlite_json if dialect.name == "sqlite" else None


def _sqlite_json(value: Any) -> Any:
    # A JSON column has NUMERIC affinity in SQLite: a bare number comes back as one.
    return orjson.loads(value) if value.__class__ is str else value


def among(db: Session, column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values` for a batch's worth of ids or digests, sent as one parameter.

    A plain `IN` expands into one bound parameter per value, and SQLAlchemy's work per
    value cost a batch of 1,000 more than the query: here the list travels as one JSON
    text (SQLite: `json_each`) or one array (PostgreSQL: `= ANY`), and the statement's
    compiled form is cached like any other.
    """
    items = list(values)
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type)))
    listed = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, orjson.dumps(items).decode(), type_=String())))
    return column.in_(listed)
