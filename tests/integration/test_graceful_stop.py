"""SIGTERM stops every process cleanly: the web answers what it was answering, a worker finishes its
batch, the scheduler gives up the lead, `journeys up` stops as on Ctrl-C. Nothing is left half-done."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select, text

from app import clock, create_app, jobs, queues
from app.db import db
from app.models import Event, Message
from app.scheduler import LOCK_NAME
from app.services import api_keys, events
from tests.conftest import ROOT, environ_for, wait_for
from tests.engine_support import SMTPServer, chain, event, free_port, journey, send, template

pytestmark = pytest.mark.slow


def _start(args: list[str], env: dict[str, str], log) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH")}
    full.update(env)
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "journeys"), *args], env=full, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


class _Lock:
    """Holds a write lock on the events table from the test, so an ingest request waits on it."""

    def __init__(self, app, settings) -> None:  # type: ignore[no-untyped-def]
        self.sqlite = settings.is_sqlite
        if self.sqlite:
            import sqlite3

            self.conn = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn = app.extensions["db_engine"].connect()
            self.conn.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))

    def release(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()
        self.conn.close()


def test_web_sigtermed_during_a_slow_request_answers_it_then_exits_0(app, settings, database_url, redis_url,
                                                                      tmp_path):
    with app.app_context():
        with db.transaction() as s:
            key = api_keys.create(s, name="stop test", scopes="events:write", actor=None, by="test",
                                  now=clock.now()).key
    port = free_port()
    log = open(tmp_path / "web.log", "w+")
    web = _start(["web", "--port", str(port)], environ_for(settings.instance_path, database_url, redis_url), log)
    answer: dict[str, object] = {}
    lock = None
    try:
        assert wait_for(lambda: not _refused(port)), (tmp_path / "web.log").read_text()
        lock = _Lock(app, settings)

        def post() -> None:
            resp = requests.post(f"http://127.0.0.1:{port}/api/v1/events", timeout=60,
                                 headers={"Authorization": f"Bearer {key}"},
                                 json={"event": "signed_up", "contact": {"email": "slow@example.com"}})
            answer.update(status=resp.status_code, body=resp.json())

        client = threading.Thread(target=post)
        client.start()
        time.sleep(1.5)  # the request is in the app, waiting for the lock
        web.send_signal(signal.SIGTERM)
        assert wait_for(lambda: _refused(port), timeout=5), "still accepting connections after SIGTERM"
        assert web.poll() is None and not answer, "the request in flight must not be cut off"
        lock.release()
        lock = None
        client.join(30)
        assert web.wait(30) == 0, (tmp_path / "web.log").read_text()
    finally:
        if lock is not None:
            lock.release()
        if web.poll() is None:
            web.kill()
            web.wait()
        log.close()
    assert answer["status"] == 202, answer
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1  # stored, once
    assert "request(s) in flight" in (tmp_path / "web.log").read_text()


def test_worker_sigtermed_mid_batch_finishes_the_batch_takes_no_other_and_exits_0(app, settings, database_url,
                                                                                   redis_url, tmp_path):
    n = 40
    with SMTPServer() as smtp:
        smtp.box.delay = 0.05  # two seconds of sending in one job
        engine_app = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
        with engine_app.app_context():
            with db.transaction() as s:
                template(s, "welcome", "Welcome")
                journey(s, chain("signed_up", send("hello", "welcome")))
            for i in range(n):
                events.ingest(db.session, events.parse(event("signed_up", f"t{i}@example.com")),
                              source="test", now=clock.now())
            applied = events.process_pending(db.session, clock.now())
            jobs.enqueue_deliveries(applied.messages)  # one batch, one job
            queues.enqueue(queues.DEFAULT, queues.ping)  # the next job: must wait for another worker
        engine_app.extensions["db_engine"].dispose()
        env = environ_for(settings.instance_path, database_url, redis_url, SMTP_URL=smtp.url,
                          MAIL_RATE_PER_SECOND="0")
        log = open(tmp_path / "worker.log", "w+")
        worker = _start(["worker"], env, log)  # not --burst: only the signal ends it
        try:
            assert wait_for(lambda: smtp.box.count() >= 5, timeout=60), (tmp_path / "worker.log").read_text()
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(60)
        finally:
            if worker.poll() is None:
                worker.kill()
            log.close()
        output = (tmp_path / "worker.log").read_text()
        assert code == 0, output
        assert "warm shut down requested" in output
        accepted = Counter(r.recipients[0] for r in smtp.box.received)
    assert len(accepted) == n and max(accepted.values()) == 1  # the whole batch, each once
    with app.app_context():
        states = dict(db.session.execute(select(Message.status, func.count()).group_by(Message.status)).all())
        assert states == {"sent": n}
        assert queues.get_queue(queues.DEFAULT).count == 1  # the ping was left for the next worker


def test_scheduler_sigterm_gives_up_the_lead_at_once(app, settings, database_url, redis_url, tmp_path, rconn):
    log = open(tmp_path / "scheduler.log", "w+")
    proc = _start(["scheduler"], environ_for(settings.instance_path, database_url, redis_url), log)
    try:
        assert wait_for(lambda: rconn.exists(LOCK_NAME)), (tmp_path / "scheduler.log").read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert not rconn.exists(LOCK_NAME)  # a standby takes over now, not after the lock's 10 s expiry


def test_up_stops_on_sigterm_as_on_ctrl_c(tmp_path, app):
    from tests.integration.test_up import Up, alive, descendants

    up = Up(tmp_path / "instance")
    try:
        up.wait_ready()
        tree = descendants(up.proc.pid)
    finally:
        up.proc.send_signal(signal.SIGTERM)
        code = up.proc.wait(60)
        up.out.close()
    assert code == 0, up.output()
    assert not [pid for pid in tree if alive(pid)], up.output()
    assert "received SIGTERM: stopping" in up.output() and "all processes stopped" in up.output()
    assert "web stopped" in up.output()


def test_web_on_gunicorn_serves_adds_up_its_processes_metrics_and_stops_on_sigterm(app, settings, database_url,
                                                                                   redis_url, tmp_path):
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w+")
    web = _start(["web", "--server", "gunicorn", "--workers", "2", "--threads", "2", "--port", str(port)],
                 environ_for(settings.instance_path, database_url, redis_url), log)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: _answers(base + "/readyz"), timeout=120), (tmp_path / "gunicorn.log").read_text()
        before = _healthz_count(requests.get(base + "/metrics", timeout=30).text)
        for _ in range(10):
            assert requests.get(base + "/healthz", timeout=10, headers={"Connection": "close"}).status_code == 200
        text = requests.get(base + "/metrics", timeout=30).text
        assert _healthz_count(text) - before == 10  # both processes' requests, whichever one answered
        assert "journeys_enrollments_due_unclaimed" in text
        web.send_signal(signal.SIGTERM)
        assert web.wait(60) == 0, (tmp_path / "gunicorn.log").read_text()
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()
        log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _healthz_count(metrics: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith('journeys_http_requests_total{endpoint="ops.healthz"'))
