"""`journeys web` on waitress, with a graceful stop.

On SIGTERM (or Ctrl-C) the server closes its listening socket at once, so new connections
are refused and a reverse proxy sends them to another instance; requests already in flight
run to the end and their answers are sent, for up to DRAIN_GRACE seconds; idle keep-alive
connections are closed; then the process exits 0. Waitress's own `serve()` would stop its
threads after 5 s and drop whatever they were answering.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

log = logging.getLogger(__name__)

#: Seconds requests in flight get to finish once a stop is asked for (less than the
#: supervisor's STOP_GRACE and the usual 30 s of container and systemd stop timeouts).
DRAIN_GRACE = 20.0
#: Seconds between looks at the connections while draining.
DRAIN_POLL = 0.05


class GracefulServer:
    def __init__(self, app: Any, *, host: str, port: int, threads: int, grace: float = DRAIN_GRACE) -> None:
        # One listening socket, or several when the host name has several addresses
        # (`localhost`: 127.0.0.1 and ::1): waitress then gives a MultiSocketServer.
        self.server = create_server(app, host=host, port=port, threads=threads, ident="journeys",
                                    clear_untrusted_proxy_headers=True)
        self.map = getattr(self.server, "map", None) or self.server._map
        self.listeners = [d for d in self.map.values() if isinstance(d, BaseWSGIServer)]
        self.grace = grace
        self.stopping = False

    @property
    def port(self) -> int:
        return int(self.listeners[0].effective_port)

    def request_stop(self, *_: object) -> None:
        """Signal handler: ask for the stop (the loop notices within a second)."""
        self.stopping = True

    def serve(self) -> None:
        adj = self.server.adj
        while not self.stopping:
            wasyncore.loop(timeout=adj.asyncore_loop_timeout, map=self.map, use_poll=adj.asyncore_use_poll, count=1)
        self.drain()

    def _channels(self) -> list[Any]:
        return [ch for listener in self.listeners for ch in list(listener.active_channels.values())]

    def in_flight(self) -> int:
        """Connections with a request being answered or an answer not yet sent."""
        return sum(1 for ch in self._channels() if ch.requests or ch.total_outbufs_len)

    def drain(self) -> None:
        for listener in self.listeners:
            listener.accepting = False
            listener.del_channel()
            listener.socket.close()  # new connections are refused from here on
        busy = self.in_flight()
        log.info("web stopping: no longer listening; %d request(s) in flight get %.0fs", busy, self.grace)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline:
            self._close_idle()
            if not self.in_flight():
                break
            wasyncore.loop(timeout=DRAIN_POLL, map=self.map, use_poll=self.server.adj.asyncore_use_poll, count=1)
        left = self.in_flight()
        if left:
            log.warning("web stopping: %d request(s) still running after %.0fs are cut off", left, self.grace)
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
        wasyncore.close_all(self.map)
        log.info("web stopped")

    def _close_idle(self) -> None:
        # Keep-alive connections with nothing running close once their answer is out, so
        # their clients reconnect (to another instance) instead of sending here again.
        for channel in self._channels():
            if not channel.requests:
                channel.close_when_flushed = True
