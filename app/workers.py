"""The RQ worker classes we run: RQ's own, with a way out that cannot hang on pub/sub.

An RQ worker listens for commands (shutdown, stop or kill a job) on a pub/sub
thread and, on its way out, unsubscribes and stops that thread. redis-py 8.2's
`PubSubWorkerThread.stop()` waits for the thread to end, and the thread may have
gone back to waiting up to 60 s for a subscription that never comes (it read the
unsubscribe reply before its flag was cleared). A worker stopped by Ctrl-C or
SIGTERM then sits there for a minute. Here the flag is cleared before the
unsubscribe, so the reply ends the thread at once; the thread is a daemon and
holds nothing to save, so the wait is bounded anyway.
"""
from __future__ import annotations

from typing import Any

from rq import SimpleWorker as _RQSimpleWorker
from rq import Worker as _RQWorker

#: Seconds a stopping worker waits for its pub/sub thread.
PUBSUB_JOIN_SECONDS = 1.0


class _BoundedUnsubscribe:
    pubsub: Any
    pubsub_thread: Any

    def unsubscribe(self) -> None:
        thread = self.pubsub_thread
        if thread is None:
            return
        # The flag first, then the reply that wakes the thread: the other way round, the
        # thread often read the reply before the flag was cleared and went back to waiting.
        try:
            thread.stop(timeout=0)  # redis-py 8.2: stop() waits; not here
        except TypeError:  # before 8.2: stop() takes no timeout and does not wait
            thread.stop()
        if thread.is_alive():
            self.pubsub.unsubscribe()  # the reply wakes a thread that is reading the socket
            thread.join(timeout=PUBSUB_JOIN_SECONDS)


class Worker(_BoundedUnsubscribe, _RQWorker):
    """`journeys worker`: forks a work horse per job."""


class SimpleWorker(_BoundedUnsubscribe, _RQSimpleWorker):
    """Runs jobs in its own process: tests and benchmarks."""
