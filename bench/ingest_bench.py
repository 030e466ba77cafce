"""Ingest benchmark: POST /api/v1/events and /events/batch under gunicorn, beside a bare endpoint.

    .venv/bin/python bench/ingest_bench.py [--seconds 8] [--concurrency 16] [--batches 20]

Runs on a fresh instance in a temporary folder: SQLite + an embedded Redis by default, or
DATABASE_URL / REDIS_URL when set (their data is replaced!). Both servers are gunicorn with
2 workers (sync, its default; --worker-class gthread to compare) on loopback; the load
generator is this process (asyncio, raw HTTP/1.1), so all of them share the machine's cores.

- bare: a Flask endpoint that parses the same JSON and answers 202; closed loop.
- single: the real POST /api/v1/events (key lookup, validation, rate limiter on Redis, insert
  + commit, kick); closed loop. Target: at least 50% of the bare rate.
- half load: open loop at half the single rate; latency counted from each request's scheduled
  start (no coordinated omission). Target: p99 under 25 ms.
- batch: POST /api/v1/events/batch with 1,000 events each. Target: 10,000 events/s stored.
- drain: one worker processes every stored event; every 202 must be a processed event.
bare and single also print the CPU their workers spent a request (from /proc, on Linux).
The API key's rate limit is raised for the run (API_RATE_LIMIT): the limiter still runs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from results import Result, add_json_flag, emit  # noqa: E402

BIN = Path(sys.executable).parent
CONTACTS = 2_000  # events cycle over this many shoppers, as a shop's traffic would


def bare_app():  # type: ignore[no-untyped-def]
    """The reference: parse the same JSON, answer 202, nothing else (served as `bench.ingest_bench:bare_app()`)."""
    from flask import Flask, jsonify, request

    app = Flask("bare")

    @app.post("/api/v1/events")
    def events():  # type: ignore[no-untyped-def]
        data = json.loads(request.get_data())
        return jsonify(id=len(data), status="accepted"), 202

    return app


def event_body(n: int) -> bytes:
    return json.dumps({"event": "order_placed", "contact": {"email": f"shopper{n % CONTACTS}@example.com",
                                                            "attributes": {"first_name": "Ana"}},
                       "properties": {"order_id": f"o-{n}", "total": 129.5, "currency": "PLN",
                                      "items": [{"title": "Mug", "quantity": 2, "price": 39.5}]},
                       "occurred_at": "2026-12-01T09:00:00Z"}).encode()


def batch_body(n: int) -> bytes:
    return json.dumps({"events": [json.loads(event_body(n * 1000 + i)) for i in range(1000)]}).encode()


# --- a small HTTP/1.1 load generator ---------------------------------------------------------------

@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Connection:
    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        self.port, self.path = port, path
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": "127.0.0.1", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(f"POST {self.path} HTTP/1.1\r\n{self.head}Content-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        assert self.reader is not None
        status_line = await self.reader.readline()
        status, length, close = int(status_line.split()[1]), 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return status, payload


async def closed_loop(port: int, path: str, headers: dict[str, str], make: Callable[[int], bytes],
                      concurrency: int, seconds: float) -> Run:
    run, counter = Run(), iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        conn = Connection(port, path, headers)
        while time.perf_counter() < deadline:
            body = make(next(counter))
            began = time.perf_counter()
            status, _ = await conn.post(body)
            run.latencies.append(time.perf_counter() - began)
            run.statuses[status] += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - began
    return run


async def open_loop(port: int, path: str, headers: dict[str, str], make: Callable[[int], bytes],
                    rate: float, seconds: float, pool: int = 64) -> Run:
    """Requests start on a fixed schedule, whatever the server does; latency counts from the schedule."""
    run, free = Run(), asyncio.Queue[Connection]()
    for _ in range(pool):
        free.put_nowait(Connection(port, path, headers))
    start, total = time.perf_counter() + 0.05, int(rate * seconds)

    async def one(i: int) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        conn = await free.get()
        status, _ = await conn.post(make(i))
        free.put_nowait(conn)
        run.latencies.append(time.perf_counter() - scheduled)
        run.statuses[status] += 1

    await asyncio.gather(*(one(i) for i in range(total)))
    run.seconds = time.perf_counter() - start
    return run


async def each_once(port: int, path: str, headers: dict[str, str], bodies: list[bytes],
                    concurrency: int = 2) -> Run:
    """Every body once, over `concurrency` connections; answers kept."""
    run, queue = Run(), list(bodies)

    async def client() -> None:
        conn = Connection(port, path, headers)
        while queue:
            body = queue.pop()
            began = time.perf_counter()
            status, payload = await conn.post(body)
            run.latencies.append(time.perf_counter() - began)
            run.statuses[status] += 1
            run.bodies.append(payload)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - began
    return run


# --- servers and the instance ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: gunicorn's worker class. sync (its default): one request at a time per worker, a connection per
#: request, and the kernel spreads connections over both workers. (gthread keeps connections alive,
#: and then one worker tends to take every connection of a load generator, leaving the other idle.)
WORKER_CLASS = "sync"
THREADS = 4  # per worker, for gthread


def gunicorn(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    # gunicorn turns a sync worker given more than one thread into gthread: threads only for gthread.
    threads = ["--threads", str(THREADS), "--keep-alive", "30"] if WORKER_CLASS == "gthread" else []
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "2", "--worker-class", WORKER_CLASS, *threads,
                             "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                             target], env={**os.environ, **env}, cwd=ROOT)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"gunicorn {target} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


class Instance:
    def __init__(self) -> None:
        from app.config import load_settings

        self.folder = Path(tempfile.mkdtemp(prefix="journeys-ingest-"))
        self.redis = None
        env = {"INSTANCE_PATH": str(self.folder), "SECRET_KEY": "bench", "JOURNEYS_ENV": "test",
               "API_RATE_LIMIT": "1000000/minute", "LOG_LEVEL": "WARNING"}
        for name in ("DATABASE_URL", "REDIS_URL"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        if "REDIS_URL" not in env:
            from app import embedded_redis

            self.redis = embedded_redis.start(self.folder / "redis")
            env["REDIS_URL"] = f"unix://{self.folder / 'redis' / 'redis.sock'}"
        self.env = env
        from app import create_app, migrate
        from app.db import make_engine
        from tests.conftest import reset_database

        settings = load_settings(env)
        engine = make_engine(settings)
        reset_database(engine)
        migrate.upgrade(engine)
        engine.dispose()
        self.app = create_app(settings)
        self.app.extensions["redis"].flushdb()

    def key(self) -> str:
        from app import clock
        from app.db import db
        from app.services import api_keys

        with self.app.app_context():
            with db.transaction() as s:
                return api_keys.create(s, name="bench", scopes="events:write", actor=None, by="bench",
                                       now=clock.now()).key

    def counts(self) -> tuple[int, int, int]:
        """(events stored, processed, processed with an error)."""
        from sqlalchemy import func, select

        from app.db import db
        from app.models import Event

        with self.app.app_context():
            s, count = db.session, select(func.count()).select_from(Event)
            return (s.scalar(count) or 0, s.scalar(count.where(Event.processed_at.is_not(None))) or 0,
                    s.scalar(count.where(Event.error.is_not(None))) or 0)

    def close(self) -> None:
        self.app.extensions["db_engine"].dispose()
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(10)


def workers_cpu(server: subprocess.Popen[bytes]) -> float:
    """CPU seconds the server's worker processes have used (Linux's /proc; 0 elsewhere).

    The rates share two cores with the load generator and Redis: what each server spends a
    request says why one is slower, where the rates alone swing with the machine."""
    total = 0.0
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0
    return total


def per_request(seconds: float, run: Run) -> str:
    return f", workers' CPU {seconds / len(run.latencies) * 1000:.2f} ms a request" if seconds else ""


def report(name: str, run: Run) -> str:
    return (f"{name}: {len(run.latencies):,} requests in {run.seconds:.1f}s = {run.rate:,.0f}/s, "
            f"p50 {run.pct(0.50):.1f} ms, p99 {run.pct(0.99):.1f} ms, statuses {dict(run.statuses)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per closed/open-loop phase")
    parser.add_argument("--concurrency", type=int, default=16, help="connections in closed loops")
    parser.add_argument("--batches", type=int, default=20, help="batch requests of 1,000 events")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default=WORKER_CLASS)
    parser.add_argument("--threads", type=int, default=THREADS, help="threads per gthread worker")
    add_json_flag(parser)
    args = parser.parse_args()
    globals().update(WORKER_CLASS=args.worker_class, THREADS=args.threads)
    instance = Instance()
    print(f"database: {instance.app.config['SETTINGS'].database_url.split(':')[0]}, "
          f"redis: {'embedded' if instance.redis else 'REDIS_URL'}; gunicorn 2 {WORKER_CLASS} workers"
          f"{f' x {THREADS} threads' if WORKER_CLASS == 'gthread' else ''}; "
          f"{os.cpu_count()} cores shared with the load generator")
    headers = {"Authorization": f"Bearer {instance.key()}"}
    accepted = 0
    try:
        bare, bare_port = gunicorn("bench.ingest_bench:bare_app()", instance.env)
        try:
            asyncio.run(closed_loop(bare_port, "/api/v1/events", {}, event_body, args.concurrency, 1.0))  # warm-up
            spent = workers_cpu(bare)
            base = asyncio.run(closed_loop(bare_port, "/api/v1/events", {}, event_body, args.concurrency,
                                           args.seconds))
            base_cpu = per_request(workers_cpu(bare) - spent, base)
        finally:
            stop(bare)
        print(report("bare  ", base) + base_cpu)
        server, port = gunicorn("app.wsgi:application", instance.env)
        try:
            warm = asyncio.run(closed_loop(port, "/api/v1/events", headers, event_body, args.concurrency, 1.0))
            spent = workers_cpu(server)
            single = asyncio.run(closed_loop(port, "/api/v1/events", headers, event_body, args.concurrency,
                                             args.seconds))
            single_cpu = per_request(workers_cpu(server) - spent, single)
            half = asyncio.run(open_loop(port, "/api/v1/events", headers, event_body, single.rate / 2,
                                         args.seconds))
            bodies = [batch_body(n) for n in range(args.batches)]
            before = instance.counts()[0]
            batches = asyncio.run(each_once(port, "/api/v1/events/batch", headers, bodies))
            stored_batch = instance.counts()[0] - before
        finally:
            stop(server)
        for run in (warm, single, half):
            accepted += run.statuses[202]
        batch_accepted = sum(json.loads(b)["accepted"] for b in batches.bodies)
        accepted += batch_accepted
        ratio = single.rate / base.rate
        print(report("single", single) + single_cpu +
              f" -> {ratio:.0%} of bare (target 50%: {'PASS' if ratio >= .5 else 'FAIL'})")
        p99 = half.pct(0.99)
        print(report("half  ", half) + f" -> p99 {p99:.1f} ms (target < 25 ms: {'PASS' if p99 < 25 else 'FAIL'})")
        batch_rate = stored_batch / batches.seconds
        print(f"batch : {len(batches.latencies)} x 1,000 events in {batches.seconds:.1f}s = {batch_rate:,.0f} "
              f"events/s stored, p50 {batches.pct(.5):.0f} ms per batch (target 10,000/s: "
              f"{'PASS' if batch_rate >= 10_000 else 'FAIL'})")
        began = time.perf_counter()
        subprocess.run([str(BIN / "journeys"), "worker", "--burst"], env={**os.environ, **instance.env},
                       cwd=ROOT, check=True, capture_output=True)
        stored, processed, errors = instance.counts()
        lost = accepted - processed
        verdict = "PASS" if lost == 0 and stored == accepted else "FAIL"
        print(f"drain : {processed:,} of {stored:,} stored events processed in {time.perf_counter() - began:.1f}s "
              f"by one worker; acknowledged {accepted:,}, lost {lost} ({verdict}), processing errors {errors}")
        emit([Result("ingest: POST /events, requests/s", single.rate, "req/s", base.rate, "bare Flask endpoint",
                     0.5, on="ratio"),
              Result("ingest: p99 at half load", p99, "ms", target=25, better="lower"),
              Result("ingest: batch, events stored/s", batch_rate, "events/s", target=10_000),
              Result("ingest: acknowledged but not processed", lost + abs(stored - accepted), "events", target=0,
                     better="lower")], args.json)
    finally:
        instance.close()


if __name__ == "__main__":
    main()
