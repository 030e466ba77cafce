"""`journeys up`: one supervised process tree (embedded Redis, web, worker, scheduler).

Each child runs in its own process group, so Ctrl-C reaches the supervisor
only and it stops the children in order (web, worker and scheduler first,
Redis last). The children also get SIGTERM from the kernel if the supervisor
itself dies, so nothing is ever left orphaned.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from app import embedded_redis
from app.config import Settings

log = logging.getLogger(__name__)

#: Seconds a child gets to exit after SIGTERM: the web drains its requests (DRAIN_GRACE, 20 s),
#: a worker finishes the batch under way (500 messages at MAIL_RATE_PER_SECOND=50: 10 s).
STOP_GRACE = 30.0
#: Seconds after the second SIGTERM (RQ's cold shutdown: the work horse is killed) before SIGKILL.
KILL_GRACE = 5.0
#: A child that dies more often than this within RESTART_WINDOW stops everything.
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


def _die_with_parent() -> None:
    # Linux: the kernel sends SIGTERM to this child when the supervisor dies.
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        log.info("started %s (pid %s)", self.name, self.proc.pid)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _send(self.proc.pid, sig)

    def signal_group(self, sig: int) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass


class Supervisor:
    def __init__(self, settings: Settings, *, host: str, port: int) -> None:
        self.settings = settings
        exe = [sys.executable, "-m", "app.cli"]
        self.children = [
            Child("web", exe + ["web", "--host", host, "--port", str(port)]),
            Child("worker", exe + ["worker"]),
            Child("scheduler", exe + ["scheduler"]),
        ]
        self.redis: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self.hurry = False  # a second Ctrl-C: stop without waiting for work under way

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["INSTANCE_PATH"] = str(self.settings.instance_path)
        env["REDIS_URL"] = self.settings.effective_redis_url
        env["JOURNEYS_SUPERVISED"] = "1"
        return env

    def start(self) -> None:
        if self.settings.embedded_redis:
            self.redis = embedded_redis.start(self.settings.instance_path,
                                              preexec_fn=_die_with_parent)
            log.info("embedded Redis on %s (pid %s)", self.settings.redis_socket, self.redis.pid)
        env = self.child_env()
        for child in self.children:
            child.start(env)

    def watch(self, on_tick: Callable[[], None] | None = None) -> int:
        """Restart children that die; return the exit code once asked to stop."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._request_stop)
        while not self.stopping:
            for child in self.children:
                if not child.alive() and not self.stopping and not self._restart(child):
                    self.stop()
                    return 1
            if on_tick:
                on_tick()
            time.sleep(0.2)
        self.stop()
        return 0

    def _request_stop(self, signum: int, _frame: object) -> None:
        if self.stopping:
            if not self.hurry:
                log.warning("received %s again: stopping now, work under way is cut off", signal.Signals(signum).name)
            self.hurry = True
            return
        log.info("received %s: stopping (work under way gets %.0fs; again to stop at once)",
                 signal.Signals(signum).name, STOP_GRACE)
        self.stopping = True

    def _restart(self, child: Child) -> bool:
        code = child.proc.returncode if child.proc else None
        now = time.monotonic()
        child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW] + [now]
        if len(child.restarts) > MAX_RESTARTS:
            log.error("%s exited (code %s) %d times within %.0fs: giving up", child.name, code,
                      len(child.restarts), RESTART_WINDOW)
            return False
        log.warning("%s exited (code %s): restarting", child.name, code)
        child.start(self.child_env())
        return True

    def stop(self) -> None:
        """SIGTERM to each child's own process (the worker's work horse, in a group of its own,
        finishes its job meanwhile); after STOP_GRACE, SIGTERM again (RQ then kills the horse),
        after KILL_GRACE SIGKILL to what is left."""
        self.stopping = True
        running = [c for c in self.children if c.alive()]
        for child in running:
            child.signal(signal.SIGTERM)
        left = self._wait([c.proc for c in running if c.proc], STOP_GRACE)
        for proc in left:
            log.warning("pid %s still busy after %.0fs: stopping it harder", proc.pid, STOP_GRACE)
            _send(proc.pid, signal.SIGTERM)
        for proc in self._wait(left, KILL_GRACE):
            _send_group(proc.pid, signal.SIGKILL)
            proc.wait()
        for child in self.children:  # stragglers of each group
            child.signal_group(signal.SIGKILL)
        if self.redis is not None:
            self.redis.terminate()  # Redis saves its data on SIGTERM
            _wait_all([self.redis], STOP_GRACE, on_timeout=lambda p: p.kill())
            Path(self.settings.redis_socket).unlink(missing_ok=True)
        log.info("all processes stopped")

    def _wait(self, procs: list[subprocess.Popen[bytes]], grace: float) -> list[subprocess.Popen[bytes]]:
        """Wait up to `grace` seconds (less after a second Ctrl-C) for `procs`; those still running."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not self.hurry:
            if all(p.poll() is not None for p in procs):
                return []
            time.sleep(0.05)
        return [p for p in procs if p.poll() is None]


def _send(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _send_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _wait_all(procs: list[subprocess.Popen[bytes]], grace: float,
              on_timeout: Callable[[subprocess.Popen[bytes]], None]) -> None:
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                on_timeout(proc)
            except ProcessLookupError:
                pass
            proc.wait()
