"""The scale-out shape: separate processes sharing one database and one Redis."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import ROOT, environ_for, wait_for

pytestmark = pytest.mark.slow


def _start(command: str, env: dict[str, str], log) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    full = {k: v for k, v in os.environ.items() if k not in env}
    full.update(env)
    return subprocess.Popen([str(ROOT / ".venv/bin/journeys"), command], env=full, stdout=log,
                            stderr=subprocess.STDOUT, text=True, cwd=ROOT)


def test_two_scheduler_processes_one_leads_the_other_takes_over(app, tmp_path, database_url, redis_url):
    env = environ_for(tmp_path, database_url, redis_url, LOG_JSON="1")
    logs = [open(tmp_path / f"s{i}.log", "w+") for i in range(2)]
    procs = [_start("scheduler", env, log) for log in logs]
    try:
        def leaders() -> list[int]:
            return [i for i in range(2) if "is now the leader" in (tmp_path / f"s{i}.log").read_text()]

        assert wait_for(lambda: len(leaders()) >= 1, timeout=20, every=0.2)
        time.sleep(2.5)  # both tick a few times; the standby must not take the lead
        first = leaders()
        assert len(first) == 1, first
        leader = first[0]
        procs[leader].send_signal(signal.SIGTERM)  # a clean stop releases the lock
        assert procs[leader].wait(15) == 0
        assert wait_for(lambda: len(leaders()) == 2, timeout=20, every=0.2), "the standby never took over"
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(15)
        for log in logs:
            log.close()
    # Production-style logs: every line is a JSON object with our fields.
    for i in range(2):
        for line in (tmp_path / f"s{i}.log").read_text().splitlines():
            record = json.loads(line)
            assert {"ts", "level", "logger", "message"} <= record.keys()
            assert record["process_role"] == "scheduler"
