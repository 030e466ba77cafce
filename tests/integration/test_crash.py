"""A worker killed with SIGKILL in the middle of a delivery batch loses nothing and sends nothing twice."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app import clock, create_app, jobs
from app.db import db
from app.models import Message
from app.services import events
from tests.conftest import ROOT, environ_for
from tests.engine_support import SMTPServer, chain, event, journey, send, template, tick

N = 120


def _worker(env: dict[str, str], capture: bool = False) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH")}
    full.update(env)
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "journeys"), "worker", "--burst"], env=full, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
                            text=True, start_new_session=True)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_sigkill_mid_batch_then_restart_sends_every_message_once(app, settings, database_url, redis_url):
    with SMTPServer() as smtp:
        smtp.box.delay = 0.03
        engine_app = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
        with engine_app.app_context():
            with db.transaction() as s:
                template(s, "welcome", "Welcome")
                journey(s, chain("signed_up", send("hello", "welcome")))
            for i in range(N):
                events.ingest(db.session, events.parse(event("signed_up", f"k{i}@example.com")),
                              source="test", now=clock.now())
            applied = events.process_pending(db.session, clock.now())
            jobs.enqueue_deliveries(applied.messages)  # one job: the whole batch on one connection
        env = environ_for(settings.instance_path, database_url, redis_url, SMTP_URL=smtp.url,
                          MAIL_RATE_PER_SECOND="0")
        worker = _worker(env)
        deadline = time.monotonic() + 60
        while smtp.box.count() < N // 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        for pid in (*_children(worker.pid), worker.pid):  # the work-horse (RQ gives it its own
            os.kill(pid, signal.SIGKILL)                  # session) and the worker, mid-batch
        worker.wait(10)
        before = smtp.box.count()
        assert 0 < before < N, "the kill should land in the middle of the batch"

        later = datetime.now(timezone.utc) + timedelta(minutes=10)
        clock.set_source(lambda: later)
        tick(engine_app)  # the reconciler: expired lease → ambiguous, queued messages → new jobs
        restarted = _worker(env, capture=True)
        _, errors = restarted.communicate(timeout=120)
        assert restarted.returncode == 0, errors
        engine_app.extensions["db_engine"].dispose()

        with app.app_context():
            states = Counter(dict(db.session.execute(
                select(Message.status, func.count()).group_by(Message.status)).all()))
        accepted = Counter(r.recipients[0] for r in smtp.box.received)
        print(f"\nkilled after {before} of {N} accepted; then: {dict(states)}; "
              f"accepted by the server: {sum(accepted.values())}, twice: "
              f"{sum(1 for c in accepted.values() if c > 1)}")
        assert states["sent"] + states["ambiguous"] == N
        assert states["ambiguous"] <= 1
        assert max(accepted.values()) == 1  # none accepted twice
        assert len(accepted) >= N - states["ambiguous"]  # none lost
