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

#: Seconds a child gets to exit after SIGTERM before it is killed.
STOP_GRACE = 10.0
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
        if not self.stopping:
            log.info("received %s: stopping", signal.Signals(signum).name)
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
        self.stopping = True
        for child in self.children:
            child.signal_group(signal.SIGTERM)
        _wait_all([c.proc for c in self.children if c.proc], STOP_GRACE,
                  on_timeout=lambda p: os.killpg(p.pid, signal.SIGKILL))
        for child in self.children:  # work-horses and other stragglers of each group
            child.signal_group(signal.SIGKILL)
        if self.redis is not None:
            self.redis.terminate()  # Redis saves its data on SIGTERM
            _wait_all([self.redis], STOP_GRACE, on_timeout=lambda p: p.kill())
            Path(self.settings.redis_socket).unlink(missing_ok=True)
        log.info("all processes stopped")


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
