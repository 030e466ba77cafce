"""`journeys up | web | worker | scheduler`: the long-running processes."""
from __future__ import annotations

import logging
import signal
import threading
import time
import urllib.request

import click

from app import migrate
from app.config import Settings, load_settings
from app.db import make_engine
from app.errors import ServiceUnavailable
from app.logs import setup_logging

log = logging.getLogger("journeys")

host_option = click.option("--host", default="127.0.0.1", show_default=True,
                           help="Interface to listen on.")
port_option = click.option("--port", default=5000, show_default=True, type=int,
                           help="TCP port to listen on.")


def _logging(settings: Settings, process: str) -> None:
    setup_logging(json_lines=settings.log_json, level=settings.log_level, process=process)


@click.command()
@host_option
@port_option
def up(host: str, port: int) -> None:
    """Everything in one command: migrate, then web + worker + scheduler (+ embedded Redis)."""
    from app.services.bootstrap import ensure_first_admin
    from app.supervisor import Supervisor

    settings = load_settings()
    _logging(settings, "up")
    engine = make_engine(settings)
    try:
        migrate.upgrade(engine)
    except Exception as exc:  # noqa: BLE001
        from app.cli.db import database_problem

        raise ServiceUnavailable(database_problem(engine.url.render_as_string(), exc)) from None
    finally:
        engine.dispose()
    login = ensure_first_admin(settings)
    supervisor = Supervisor(settings, host=host, port=port)
    supervisor.start()
    url = f"http://{host}:{port}/"
    announced = threading.Event()

    def announce() -> None:
        if not announced.is_set() and _answers(url + "healthz"):
            announced.set()
            click.echo(_banner(url, login, settings))

    raise SystemExit(supervisor.watch(on_tick=announce))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as resp:  # noqa: S310 - our own loopback URL
            return resp.status == 200
    except OSError:
        return False


def _banner(url: str, login: tuple[str, str | None], settings: Settings) -> str:
    email, password = login
    lines = ["", f"  Journeys is running at {url}"]
    if password:
        lines.append(f"  Sign in as {email} with the password {password}")
        lines.append("  (shown once: change it under your account page)")
    else:
        lines.append(f"  Sign in as {email} (password set earlier; reset it with "
                     f"`journeys users set-password --email {email}`)")
    lines += [f"  Data lives in {settings.instance_path}", "  Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


@click.command()
@host_option
@port_option
@click.option("--threads", default=8, show_default=True, help="Request threads.")
def web(host: str, port: int, threads: int) -> None:
    """Serve the web app and the API (waitress)."""
    from waitress import serve

    from app import create_app
    from app.cli.context import ensure_schema_current

    settings = load_settings()
    _logging(settings, "web")
    app = create_app(settings)
    with app.app_context():
        ensure_schema_current()
    _redis_or_warn(settings)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    log.info("web listening on http://%s:%s/", host, port)
    try:
        serve(app, host=host, port=port, threads=threads, ident="journeys",
              clear_untrusted_proxy_headers=True)
    except KeyboardInterrupt:
        pass


def _exit_cleanly(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _redis_or_warn(settings: Settings) -> None:
    from app.redis_conn import check, connect

    try:
        check(connect(settings), settings)
    except ServiceUnavailable as exc:
        # The web UI stays useful without Redis; only jobs and rate limits wait.
        log.warning("%s The web app starts anyway.", exc.detail)


def _redis_required(settings: Settings):  # type: ignore[no-untyped-def]
    from app.redis_conn import check, connect, startup_warnings

    conn = connect(settings)
    check(conn, settings)
    for warning in startup_warnings(conn):
        log.warning(warning)
    return conn


@click.command()
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker on the engine, delivery and default queues."""
    from rq import Worker

    from app import create_app, queues

    settings = load_settings()
    _logging(settings, "worker")
    conn = _redis_required(settings)
    app = create_app(settings)
    queues.bind_worker_app(app)
    queues.tune_worker_gc()
    w = Worker([queues.get_queue(name, conn) for name in queues.ALL], connection=conn,
               serializer="rq.serializers.JSONSerializer")
    w.work(burst=burst, logging_level=settings.log_level, with_scheduler=False)


@click.command()
def scheduler() -> None:
    """Run the scheduler (only one of however many you start acts at a time)."""
    from app import tick_tasks  # noqa: F401 - registers the tick tasks
    from app.scheduler import Scheduler

    settings = load_settings()
    _logging(settings, "scheduler")
    conn = _redis_required(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sched = Scheduler(conn)
    log.info("scheduler %s started; waiting for the lead", sched.ident)
    started = time.monotonic()
    sched.run(stop)
    log.info("scheduler stopped after %.0fs (%d ticks as leader)", time.monotonic() - started,
             sched.ticks)
