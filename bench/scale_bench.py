"""Scale-out proof: the wake-up and fan-out benchmarks with 1 and with 2 worker processes.

    DATABASE_URL=postgresql+psycopg://... REDIS_URL=redis://.../N \\
        .venv/bin/python bench/scale_bench.py [--contacts 50000] [--fanout 10000] [--smtp-delay 0.02]

Needs PostgreSQL (one database shared by every process, as production runs it) and a
Redis; their data is replaced! Everything is the real thing: `journeys worker` processes
and one `journeys scheduler` process started from the command line, the scheduler's
claims (FOR UPDATE SKIP LOCKED) and RQ jobs, a real SMTP server (aiosmtpd, in this
process) that counts every recipient. The set-up and the references come from
bench/engine_bench.py.

- wake-up: N contacts due at a wait node; contact-steps/s from the scheduler's first claim
  until every one rests at the next wait. CPU- and database-bound: on 2 shared cores a
  second worker competes with the first, with PostgreSQL and the scheduler for the cores.
- fan-out: M contacts due before a send node; messages/s from the first claim until every
  message is sent (advancement and delivery both in the workers). The SMTP server answers
  DATA after --smtp-delay seconds, as a remote provider does, so delivery is I/O-bound.
  Target: 2 workers at least 1.5x one. A delivery job carries 500 messages, so give at
  least 2,000 (four jobs: with three, 1.5x is the most two workers could show).
- checks: every enrollment advanced once, every recipient received exactly one message,
  none missing, in each run.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import func, select  # noqa: E402

from app.db import db  # noqa: E402
from app.models import Enrollment, Message  # noqa: E402
from engine_bench import (NOW, Instance, bare_update, fanout_graph, raw_smtp_rate, waiting_at,  # noqa: E402
                          waiting_contacts, wakeup_graph)
from results import Result, add_json_flag, emit  # noqa: E402
from tests.engine_support import SMTPServer, template  # noqa: E402

JOURNEYS = str(ROOT / ".venv" / "bin" / "journeys")
FANOUT_TARGET = 1.5


class Cluster:
    """`workers` worker processes and one scheduler against the instance; stopped with SIGTERM."""

    def __init__(self, instance: Instance, workers: int) -> None:
        self.instance, self.workers = instance, workers
        self.env = {**os.environ, **instance.env, "LOG_LEVEL": "WARNING"}
        self.procs: list[subprocess.Popen[bytes]] = []

    def _start(self, command: str) -> None:
        self.procs.append(subprocess.Popen([JOURNEYS, command], env=self.env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, cwd=ROOT))

    def start(self) -> None:
        from rq import Worker

        conn = self.instance.app.extensions["redis"]
        for _ in range(self.workers):
            self._start("worker")
        _wait(lambda: len(Worker.all(connection=conn)) >= self.workers, 120, "the workers to register")
        self._start("scheduler")  # last: every worker is listening when the first batch is queued

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait(done: Callable[[], bool], seconds: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"scale: gave up waiting for {what} after {seconds:.0f}s")
        time.sleep(poll)


def _count(instance: Instance, stmt: Any) -> int:
    with instance.app.app_context():
        return db.session.scalar(stmt) or 0


def _first_claim(instance: Instance) -> bool:
    return _count(instance, select(func.count()).select_from(Enrollment)
                  .where(Enrollment.claimed_until.is_not(None))) > 0


def run_wakeup(n: int, workers: int) -> tuple[float, float, int]:
    """(contact-steps/s, bare UPDATE rows/s, enrollments advanced other than once)."""
    instance = Instance()
    try:
        jid = waiting_contacts(instance, wakeup_graph(), n, "w1")
        cluster = Cluster(instance, workers)
        cluster.start()
        try:
            _wait(lambda: _first_claim(instance) or waiting_at(instance, jid, "w2") > 0, 120, "the first claim",
                  poll=0.01)
            began = time.perf_counter()
            _wait(lambda: waiting_at(instance, jid, "w2") == n, 3600, "the wake-up", poll=0.25)
            seconds = time.perf_counter() - began
        finally:
            cluster.stop()
        with instance.app.app_context():
            steps = Counter(db.session.scalars(select(Enrollment.step).where(Enrollment.journey_id == jid)))
        wrong = n - steps.most_common(1)[0][1] if len(steps) > 1 else 0
        bare = n / bare_update(instance, jid)
        return n / seconds, bare, wrong
    finally:
        instance.close()


def run_fanout(m: int, workers: int, delay: float) -> tuple[float, float, int, int]:
    """(messages/s, raw smtplib messages/s over one connection, duplicates, missing)."""
    with SMTPServer() as smtp:
        smtp.box.parse = False
        smtp.box.delay = delay
        instance = Instance(SMTP_URL=smtp.url)
        try:
            with instance.app.app_context():
                with db.transaction() as s:
                    template(s, "news", "News for {{ contact.email }}", now=NOW - timedelta(days=1))
            waiting_contacts(instance, fanout_graph(), m, "w")
            sent = select(func.count()).select_from(Message).where(Message.status == "sent")
            cluster = Cluster(instance, workers)
            cluster.start()
            try:
                _wait(lambda: _first_claim(instance), 120, "the first claim", poll=0.01)
                began = time.perf_counter()
                _wait(lambda: _count(instance, sent) == m, 3600, "the fan-out", poll=0.25)
                seconds = time.perf_counter() - began
            finally:
                cluster.stop()
            accepted = Counter(r.recipients[0] for r in smtp.box.received)
            duplicates = sum(c - 1 for c in accepted.values() if c > 1)
            missing = m - len(accepted)
            raw = raw_smtp_rate(smtp, [r.raw for r in smtp.box.received[:min(m, 2000)]])
            return m / seconds, raw, duplicates, missing
        finally:
            instance.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000, help="contacts in the wake-up runs")
    parser.add_argument("--fanout", type=int, default=10_000, help="messages in the fan-out runs")
    parser.add_argument("--smtp-delay", type=float, default=0.02,
                        help="seconds the SMTP server takes to answer each DATA (a remote provider's)")
    add_json_flag(parser)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql") or not os.environ.get("REDIS_URL"):
        raise SystemExit("scale: needs DATABASE_URL=postgresql+psycopg://… and REDIS_URL=redis://… "
                         "(their data is replaced): the workers share one database and one Redis.")
    print(f"scale: PostgreSQL {url.rsplit('/', 1)[-1]}, Redis {os.environ['REDIS_URL'].rsplit('/', 1)[-1]}; "
          f"{os.cpu_count()} cores shared by the workers, the scheduler, PostgreSQL, Redis and this process",
          flush=True)
    wake, fan = {}, {}
    for w in (1, 2):
        wake[w] = run_wakeup(args.contacts, w)
        print(f"scale: wake-up of {args.contacts:,} with {w} worker(s): {wake[w][0]:,.0f} steps/s", flush=True)
    for w in (1, 2):
        fan[w] = run_fanout(args.fanout, w, args.smtp_delay)
        print(f"scale: fan-out of {args.fanout:,} with {w} worker(s): {fan[w][0]:,.0f} messages/s", flush=True)
    wake_ratio, fan_ratio = wake[2][0] / wake[1][0], fan[2][0] / fan[1][0]
    errors = sum(wake[w][2] for w in wake) + sum(fan[w][2] + fan[w][3] for w in fan)
    print(f"{'':24}{'1 worker':>14}{'2 workers':>14}{'scaling':>10}")
    print(f"{'wake-up, steps/s':24}{wake[1][0]:>14,.0f}{wake[2][0]:>14,.0f}{wake_ratio:>9.2f}x"
          f"   ({args.contacts:,} contacts; bare UPDATE {wake[1][1]:,.0f} rows/s)")
    print(f"{'fan-out, messages/s':24}{fan[1][0]:>14,.0f}{fan[2][0]:>14,.0f}{fan_ratio:>9.2f}x"
          f"   ({args.fanout:,} messages, {args.smtp_delay * 1000:.0f} ms per DATA; raw smtplib "
          f"{fan[1][1]:,.0f}/s over one connection) target {FANOUT_TARGET}x: "
          f"{'PASS' if fan_ratio >= FANOUT_TARGET else 'FAIL'}")
    print(f"checks: enrollments advanced other than once {wake[1][2]} / {wake[2][2]}; duplicate sends "
          f"{fan[1][2]} / {fan[2][2]}; missing sends {fan[1][3]} / {fan[2][3]} "
          f"({'PASS' if errors == 0 else 'FAIL'})")
    emit([Result("scale: wake-up steps/s, 1 worker", wake[1][0], "steps/s", wake[1][1], "bare set-based UPDATE"),
          Result("scale: wake-up steps/s, 2 workers", wake[2][0], "steps/s", wake[1][0], "1 worker",
                 note="CPU-bound on 2 shared cores: informational"),
          Result("scale: fan-out msgs/s, 1 worker", fan[1][0], "msgs/s", fan[1][1], "raw smtplib, one connection"),
          Result("scale: fan-out msgs/s, 2 workers", fan[2][0], "msgs/s", fan[1][0], "1 worker", FANOUT_TARGET,
                 on="ratio"),
          Result("scale: duplicate or missing sends and steps", errors, "", target=0, better="lower")], args.json)


if __name__ == "__main__":
    main()
