"""A small HTTP client for the traffic generator: one keep-alive connection to the app, no
redirects followed (a tracked click answers 302 to the shop, which is not ours to visit)."""
from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class Unreachable(Exception):
    """The app did not answer (not started yet, restarting, or gone)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    location: str | None = None


class Client:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{base_url!r} is not an http(s) URL such as http://127.0.0.1:5000")
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = kind(self._host, self._port, timeout=self._timeout)
        return self._conn

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        """`path` on the app (with its query); one retry on a connection the server closed."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, self._prefix + path, body=body, headers=headers or {})
                resp = conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return Answer(resp.status, data, resp.getheader("Location"))
            except (http.client.HTTPException, ConnectionError, socket.timeout, OSError) as exc:
                self.close()
                if attempt == 2 or isinstance(exc, ConnectionRefusedError):
                    raise Unreachable(f"{self.base_url}: {exc}") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
