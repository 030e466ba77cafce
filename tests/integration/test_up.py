"""`journeys up` as a newcomer runs it: starts, serves, signs in, stops cleanly, reuses data."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from app.supervisor import KILL_GRACE, STOP_GRACE
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Up:
    """`journeys up *args` on `instance`, in this process's environment unless `env` is given whole."""

    def __init__(self, instance: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        if env is None:
            env = {k: v for k, v in os.environ.items() if k not in ("INSTANCE_PATH", "SECRET_KEY")}
            env["INSTANCE_PATH"] = str(instance)
        self.log = instance.parent / f"up-{self.port}.log"
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen([str(ROOT / ".venv/bin/journeys"), "up", "--port", str(self.port), *args],
                                     env=env, stdout=self.out, stderr=subprocess.STDOUT, cwd=ROOT)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                # The banner, not the first "Ctrl-C" in the log: the demo's traffic prints one too.
                if (requests.get(self.url + "/readyz", timeout=1).status_code == 200
                        and "Press Ctrl-C to stop." in self.output()):
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise AssertionError("never ready:\n" + self.output())

    def output(self) -> str:
        if not self.out.closed:
            self.out.flush()
        return self.log.read_text()

    def interrupt(self) -> int:
        """Ctrl-C; the exit code. The supervisor may take STOP_GRACE + KILL_GRACE with work under
        way, so waiting less would fail a stop that is slow but clean; past that, the log says why."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=STOP_GRACE + KILL_GRACE + 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("`journeys up` did not stop after Ctrl-C:\n" + self.output()) from None
        finally:
            self.out.close()


def sign_in(url: str, email: str, password: str) -> requests.Session:
    s = requests.Session()
    page = s.get(url + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = s.post(url + "/login", data={"email": email, "password": password, "csrf_token": token},
                  allow_redirects=False)
    assert resp.status_code == 302, resp.text
    return s


def test_up_serves_signs_in_and_stops_without_orphans(tmp_path, app):
    instance = tmp_path / "instance"
    up = Up(instance)
    try:
        up.wait_ready()
        banner = re.search(r"Sign in as (\S+) with the password (\S+)", up.output())
        assert banner, up.output()
        email, password = banner.groups()
        session = sign_in(up.url, email, password)
        assert "Journeys" in session.get(up.url + "/journeys").text
        tree = descendants(up.proc.pid)
        assert len(tree) >= 3  # web, worker, scheduler (+ embedded Redis, work-horses)
        assert (instance / "secret_key").exists()
        if not os.environ.get("DATABASE_URL"):
            assert (instance / "journeys.db").exists()
        if not os.environ.get("REDIS_URL"):
            assert (instance / "redis.sock").exists()
    finally:
        code = up.interrupt()
    assert code == 0, up.output()
    leftovers = [pid for pid in tree if alive(pid)]
    assert not leftovers, f"orphans after Ctrl-C: {leftovers}\n{up.output()}"
    assert "all processes stopped" in up.output()

    again = Up(instance)  # a second `make run` reuses the data
    try:
        again.wait_ready()
        assert "password set earlier" in again.output()
        sign_in(again.url, email, password)
    finally:
        assert again.interrupt() == 0
