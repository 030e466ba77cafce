"""`journeys web --server gunicorn`: several processes for several cores, as production runs it.

The command replaces itself with gunicorn serving `app.wsgi:application` (gthread workers), so
signals reach gunicorn's master directly: SIGTERM stops accepting and gives requests in
flight the same DRAIN_GRACE as waitress does. Each worker process counts its requests into
PROMETHEUS_MULTIPROC_DIR (instance/prometheus, emptied at start), which /metrics adds up.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from typing import NoReturn

from app.config import Settings
from app.errors import ConfigError
from app.web_server import DRAIN_GRACE

#: Seconds a request may run before gunicorn restarts its worker.
REQUEST_TIMEOUT = 60


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", str(threads), "--graceful-timeout", str(int(DRAIN_GRACE)),
            "--timeout", str(REQUEST_TIMEOUT), "--keep-alive", "5", "--log-level", "info",
            "app.wsgi:application"]


def exec_gunicorn(settings: Settings, *, host: str, port: int, workers: int, threads: int) -> NoReturn:
    if importlib.util.find_spec("gunicorn") is None:
        raise ConfigError("gunicorn is not installed in this environment: `pip install 'gunicorn>=23'`, "
                          "or use the default server (waitress).")
    if workers < 1 or threads < 1:
        raise ConfigError("--workers and --threads must be 1 or more.")
    metrics_dir = settings.instance_path / "prometheus"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):  # counts of a previous run's processes
        stale.unlink()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    os.execve(sys.executable, gunicorn_argv(host=host, port=port, workers=workers, threads=threads), env)
