"""Memory benchmark: Redis memory, database bytes per enrollment and worker RSS with many waiting contacts.

    .venv/bin/python bench/memory_bench.py [--enrollments 1000000] [--due 50000]

Runs on a fresh instance in a temporary folder (SQLite + an embedded Redis by
default, or DATABASE_URL / REDIS_URL when set: their data is replaced!).

1. N/10 contacts wait on a wait node (one journey), `--due` of them due now: a
   scheduler tick enqueues their batches, a real `journeys worker --burst`
   advances them; the peak RSS of the worker and its forked work horses is sampled.
2. The same with N waiting contacts: the worker's peak RSS must not grow with
   N (it holds a batch, never the table). Target: under 300 MB, flat.
3. Redis used_memory with N waiting and the due batches queued. Timers live in
   SQL, so Redis holds only jobs and locks. Target: under 50 MB.
4. Database bytes per enrollment (table and its indexes), beside a minimal
   table of the same rows: what any timer store must keep (id, contact,
   version, node, wake time, the core's state JSON) with the one index a timer
   needs (wake time). Target: under 2x.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import insert, select, text  # noqa: E402

from app import clock  # noqa: E402
from app.db import db  # noqa: E402
from app.models import Contact, Enrollment, JourneyVersion, SubscriptionStatus  # noqa: E402
from app.services import bulk  # noqa: E402
from engine_bench import NOW, Instance  # noqa: E402
from results import Result, add_json_flag, emit  # noqa: E402
from journeys.state import EnrollmentState  # noqa: E402
from tests.engine_support import chain, journey, tick  # noqa: E402

CHUNK = 20_000


def _statements() -> tuple[Any, Any]:
    from sqlalchemy import bindparam

    c, e = Contact.__table__, Enrollment.__table__
    contact = insert(c).values({k: bindparam(k) for k in (
        "email", "attributes", "tags", "subscription_status", "created_at", "updated_at", "orders_count",
        "total_spent")})
    enrollment = insert(e).values({k: bindparam(k) for k in (
        "journey_id", "version_id", "contact_id", "status", "node", "wake_at", "step", "holdout", "entered_at",
        "updated_at", "state")})
    return contact, enrollment


CONTACT_INSERT, ENROLLMENT_INSERT = _statements()


def add_waiting(instance: Instance, journey_id: int, version_id: int, start: int, stop: int, due: int) -> None:
    """Contacts start..stop, each waiting at w1; the first `due` of them due now, the rest tomorrow."""
    with instance.app.app_context():
        for low in range(start, stop, CHUNK):
            high = min(stop, low + CHUNK)
            bulk.executemany(db.session, CONTACT_INSERT, [
                {"email": f"m{i}@example.com", "attributes": {"spent": i % 300}, "tags": [],
                 "subscription_status": SubscriptionStatus.subscribed.value, "created_at": NOW, "updated_at": NOW,
                 "orders_count": 0, "total_spent": 0} for i in range(low, high)])
            ids = db.session.scalars(select(Contact.id).where(Contact.id > 0).order_by(Contact.id.desc())
                                     .limit(high - low)).all()[::-1]
            rows = []
            for n, cid in zip(range(low, high), ids):
                wake = NOW - timedelta(seconds=1) if n - start < due else NOW + timedelta(days=1)
                state = EnrollmentState(key=f"m{cid}", status="waiting", node="w1",
                                        entered_at=NOW - timedelta(hours=1), wake_at=wake,
                                        event={"name": "signed_up", "properties": {"source": "memory bench"}},
                                        visits={"start": 1, "w1": 1}).as_dict()
                rows.append({"journey_id": journey_id, "version_id": version_id, "contact_id": cid,
                             "status": "waiting", "node": "w1", "wake_at": wake, "step": 1, "holdout": False,
                             "entered_at": NOW - timedelta(hours=1), "updated_at": NOW, "state": state})
            bulk.executemany(db.session, ENROLLMENT_INSERT, rows)
            db.session.commit()


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(k) for k in task.read_text().split()]
            except OSError:
                continue
            found += kids
            frontier += kids
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker_peak_rss(instance: Instance) -> tuple[float, float]:
    """Run `journeys worker --burst` until the queues are empty; peak RSS (MB) of the worker
    process and of its largest work horse, sampled every 20 ms."""
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "journeys"), "worker", "--burst"],
                            env={**os.environ, **instance.env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    peaks = {"worker": 0.0, "horse": 0.0}

    def sample() -> None:
        while proc.poll() is None:
            peaks["worker"] = max(peaks["worker"], _rss_mb(proc.pid))
            for child in _descendants(proc.pid):
                peaks["horse"] = max(peaks["horse"], _rss_mb(child))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    proc.wait()
    sampler.join()
    return peaks["worker"], peaks["horse"]


def advanced(instance: Instance, journey_id: int) -> int:
    with instance.app.app_context():
        return db.session.execute(text("SELECT count(*) FROM enrollments WHERE journey_id = :j AND node = 'w2'"),
                                  {"j": journey_id}).scalar_one()


def table_bytes(instance: Instance, table: str) -> int:
    """Bytes of a table with all its indexes."""
    with instance.app.app_context():
        if instance.settings.is_sqlite:
            names = [table] + list(db.session.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"), {"t": table}).scalars())
            return sum(db.session.execute(text("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :n"),
                                          {"n": n}).scalar_one() for n in names)
        db.session.execute(text(f"VACUUM ANALYZE {table}"))
        return db.session.execute(text("SELECT pg_total_relation_size(:t)"), {"t": table}).scalar_one()


def minimal_copy(instance: Instance) -> None:
    with instance.app.app_context():
        ident = "INTEGER PRIMARY KEY" if instance.settings.is_sqlite else "BIGINT PRIMARY KEY"
        state = "TEXT" if instance.settings.is_sqlite else "JSONB"
        db.session.execute(text("DROP TABLE IF EXISTS minimal_timers"))
        db.session.execute(text(f"CREATE TABLE minimal_timers (id {ident}, contact_id INTEGER NOT NULL, "
                                f"version_id INTEGER NOT NULL, node VARCHAR(64), wake_at TIMESTAMP, state {state})"))
        db.session.execute(text("INSERT INTO minimal_timers SELECT id, contact_id, version_id, node, wake_at, state "
                                "FROM enrollments"))
        db.session.execute(text("CREATE INDEX ix_minimal_timers_wake ON minimal_timers (wake_at)"))
        db.session.commit()


def drain_due(instance: Instance, journey_id: int, expected: int) -> tuple[float, float, float, float]:
    """Tick (enqueue the due batches), note Redis memory, run a worker: (redis MB queued, redis MB after,
    worker MB, horse MB)."""
    conn = instance.app.extensions["redis"]
    clock.set_source(lambda: NOW)
    before = advanced(instance, journey_id)
    tick(instance.app)  # claims up to 40 batches of 1,000 and enqueues a job for each
    queued = conn.info("memory")["used_memory"] / 2**20
    worker, horse = worker_peak_rss(instance)
    while advanced(instance, journey_id) - before < expected:
        tick(instance.app)
        w, h = worker_peak_rss(instance)
        worker, horse = max(worker, w), max(horse, h)
    return queued, conn.info("memory")["used_memory"] / 2**20, worker, horse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=20_000)
    add_json_flag(parser)
    args = parser.parse_args()
    n, due = args.enrollments, args.due
    instance = Instance()
    try:
        graph = chain("signed_up", {"id": "w1", "type": "wait", "config": {"duration": "PT1H"}},
                      {"id": "w2", "type": "wait", "config": {"duration": "P1D"}})
        with instance.app.app_context():
            with db.transaction() as s:
                row = journey(s, graph, now=NOW - timedelta(days=1))
                version = s.scalars(select(JourneyVersion).where(JourneyVersion.journey_id == row.id)).one()
                jid, vid = row.id, version.id
        began = time.perf_counter()
        small = n // 10
        add_waiting(instance, jid, vid, 0, small, due)
        print(f"memory: {small:,} waiting loaded in {time.perf_counter() - began:.0f}s", flush=True)
        _, _, worker_small, horse_small = drain_due(instance, jid, due)
        add_waiting(instance, jid, vid, small, n, due)
        print(f"memory: {n:,} waiting loaded in {time.perf_counter() - began:.0f}s", flush=True)
        queued, after, worker_big, horse_big = drain_due(instance, jid, due)
        per_enrollment = table_bytes(instance, "enrollments") / n
        minimal_copy(instance)
        per_minimal = table_bytes(instance, "minimal_timers") / n
        rss = max(worker_big, horse_big)
        growth = max(worker_big, horse_big) / max(worker_small, horse_small, 1)
        backend = instance.settings.database_url.split(":")[0]
        print(f"memory: Redis {queued:.1f} MB with {n:,} waiting and {due:,} due queued, {after:.1f} MB after "
              f"(target 50 MB: {'PASS' if max(queued, after) < 50 else 'FAIL'})")
        print(f"memory: worker RSS {worker_small:.0f} MB / horse {horse_small:.0f} MB with {small:,} waiting; "
              f"{worker_big:.0f} MB / {horse_big:.0f} MB with {n:,}; growth x{growth:.2f} "
              f"(target under 300 MB and flat: {'PASS' if rss < 300 and growth < 1.2 else 'FAIL'})")
        print(f"memory: database {per_enrollment:.0f} bytes per enrollment (table and 4 indexes) beside "
              f"{per_minimal:.0f} for a minimal timer table of the same rows; ratio {per_enrollment / per_minimal:.2f} "
              f"(target 2: {'PASS' if per_enrollment / per_minimal < 2 else 'FAIL'})  [{backend}]")
        emit([Result(f"memory: Redis MB, {n:,} waiting, {due:,} due queued", max(queued, after), "MB", target=50,
                     better="lower"),
              Result(f"memory: worker peak RSS MB with {n:,} waiting", rss, "MB", target=300, better="lower"),
              Result(f"memory: RSS growth, {small:,} → {n:,} waiting", growth, "x", target=1.2, better="lower"),
              Result("memory: database bytes per enrollment", per_enrollment, "bytes", per_minimal,
                     "minimal timer table", 2.0, on="ratio", better="lower")], args.json)
    finally:
        instance.close()


if __name__ == "__main__":
    main()
