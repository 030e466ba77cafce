"""`journeys up | web | worker | scheduler`: the long-running processes."""
from __future__ import annotations

import logging
import os
import signal
import sys
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
@click.option("--demo/--no-demo", default=None, envvar="JOURNEYS_DEMO", show_envvar=True,
              help="--demo: load the demo shop first when the instance is empty (`make run` does). "
                   "--no-demo: neither load it nor run its traffic. Default: run the demo's traffic "
                   "where the demo is loaded (docs/demo.md).")
@click.option("--demo-rate", type=click.FloatRange(min=0, max=600), default=6.0, show_default=True,
              envvar="JOURNEYS_DEMO_RATE", show_envvar=True,
              help="Shoppers a minute of the demo's live traffic; 0: none.")
def up(host: str, port: int, demo: bool | None, demo_rate: float) -> None:
    """Everything in one command: migrate, then web + worker + scheduler (+ embedded Redis)."""
    from app.cli import demo as demo_cli
    from app.services.bootstrap import ensure_first_admin
    from app.supervisor import Child, Supervisor

    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{f'[{local}]' if ':' in local else local}:{port}/"
    # Links in emails (tracking, unsubscribe, the demo's pictures) point where this app answers.
    os.environ.setdefault("BASE_URL", url.rstrip("/"))
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
    traffic = demo_cli.for_up(settings, demo) and demo_rate > 0
    from app import instance_lock

    instance_lock.hold_shared(settings)
    supervisor = Supervisor(settings, host=host, port=port)
    if traffic:
        supervisor.children.append(Child("demo traffic", [sys.executable, "-m", "app.cli", "demo", "traffic",
                                                          "--url", url.rstrip("/"), "--rate", f"{demo_rate:g}"]))
    supervisor.start()
    announced = threading.Event()
    extra = [f"  Demo shop: live traffic at {demo_rate:g} shoppers a minute (`--no-demo` runs without it)"]
    if not traffic:
        extra = []
    elif settings.development and not settings.smtp_url:
        extra.append(f"  The mail it sends: {url}sent-mail")

    def announce() -> None:
        if not announced.is_set() and _answers(url + "healthz"):
            announced.set()
            click.echo(_banner(url, login, settings, extra))

    raise SystemExit(supervisor.watch(on_tick=announce))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as resp:  # noqa: S310 - our own loopback URL
            return resp.status == 200
    except OSError:
        return False


def _banner(url: str, login: tuple[str, str | None], settings: Settings, extra: list[str] | None = None) -> str:
    email, password = login
    lines = ["", f"  Journeys is running at {url}"]
    if password:
        lines.append(f"  Sign in as {email} with the password {password}")
        lines.append("  (shown once: change it under your account page)")
    else:
        lines.append(f"  Sign in as {email} (password set earlier; reset it with "
                     f"`journeys users set-password --email {email}`)")
    lines += extra or []
    lines += [f"  Data lives in {settings.instance_path}", "  Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


@click.command()
@host_option
@port_option
@click.option("--threads", default=8, show_default=True, help="Request threads (per process).")
@click.option("--server", "server_kind", type=click.Choice(["waitress", "gunicorn"]), default="waitress",
              show_default=True, help="waitress: one process, threads. gunicorn (install it first): --workers "
                                      "processes with --threads each, for several cores.")
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
def web(host: str, port: int, threads: int, server_kind: str, workers: int) -> None:
    """Serve the web app and the API. SIGTERM stops listening, lets requests in flight finish, exits 0."""
    from app import create_app, instance_lock
    from app.cli.context import ensure_schema_current

    settings = load_settings()
    _logging(settings, "web")
    app = create_app(settings)
    with app.app_context():
        ensure_schema_current()
    _redis_or_warn(settings)
    if server_kind == "gunicorn":
        from app.gunicorn_server import exec_gunicorn

        instance_lock.hold_shared(settings, inheritable=True)  # the gunicorn master keeps it
        exec_gunicorn(settings, host=host, port=port, workers=workers, threads=threads)
    from app.heap import freeze_startup
    from app.web_server import GracefulServer

    instance_lock.hold_shared(settings)
    freeze_startup()
    server = GracefulServer(app, host=host, port=port, threads=threads)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, server.request_stop)
    log.info("web listening on http://%s:%s/", host, server.port)
    server.serve()


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
    from app import create_app, queues
    from app.workers import Worker

    from app import instance_lock

    settings = load_settings()
    _logging(settings, "worker")
    conn = _redis_required(settings)
    instance_lock.hold_shared(settings)
    app = create_app(settings)
    queues.bind_worker_app(app)
    queues.tune_worker_gc()
    w = Worker([queues.get_queue(name, conn) for name in queues.ALL], connection=conn,
               serializer="rq.serializers.JSONSerializer")
    # RQ's own signal handling is the graceful stop: the first SIGTERM or SIGINT lets the
    # work horse finish its job (a whole batch) and takes no new one; a second one kills it.
    w.work(burst=burst, logging_level=settings.log_level, with_scheduler=False)


@click.command()
def scheduler() -> None:
    """Run the scheduler (only one of however many you start acts at a time)."""
    from app import tick_tasks  # noqa: F401 - registers the tick tasks
    from app.scheduler import Scheduler

    from app import instance_lock

    settings = load_settings()
    _logging(settings, "scheduler")
    conn = _redis_required(settings)
    instance_lock.hold_shared(settings)
    stop = threading.Event()  # set by SIGTERM/SIGINT: the tick under way ends, then the lock is released
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sched = Scheduler(conn)
    log.info("scheduler %s started; waiting for the lead", sched.ident)
    started = time.monotonic()
    sched.run(stop)
    log.info("scheduler stopped after %.0fs (%d ticks as leader)", time.monotonic() - started,
             sched.ticks)
