"""Structured logs: JSON lines in production, readable lines in development."""
from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

READABLE = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(*, json_lines: bool, level: str = "INFO", process: str = "") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            static_fields={"process_role": process} if process else None,
        ))
    else:
        prefix = f"[{process}] " if process else ""
        handler.setFormatter(logging.Formatter(prefix + READABLE, "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # waitress logs every queue wait at WARNING; keep it to real problems.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # readyz asks Alembic for the revision on every probe; its INFO lines are noise.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
