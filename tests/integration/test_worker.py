"""Jobs run in a real RQ worker process, inside an app context; a worker on its way out does not
wait a minute for its pub/sub thread (app/workers.py)."""
from __future__ import annotations

import time

from rq.job import Job

from app import queues
from app.workers import PUBSUB_JOIN_SECONDS, SimpleWorker
from tests.conftest import environ_for, run_cli, wait_for


def test_a_worker_process_runs_queued_jobs_in_the_app_context(app, settings, database_url, redis_url):
    with app.app_context():
        job = queues.enqueue(queues.DEFAULT, queues.ping)
    env = environ_for(settings.instance_path, database_url, redis_url)
    result = run_cli("worker", "--burst", env=env)
    assert result.returncode == 0, result.stderr
    done = Job.fetch(job.id, connection=app.extensions["redis"],
                     serializer="rq.serializers.JSONSerializer")
    assert done.get_status() == "finished"
    assert done.return_value() == "pong from app"


def test_unsubscribe_returns_promptly_when_the_thread_waits_for_a_subscription(rconn):
    worker = SimpleWorker([queues.get_queue(queues.DEFAULT, rconn)], connection=rconn,
                          serializer="rq.serializers.JSONSerializer")
    worker.subscribe()
    assert wait_for(lambda: worker.pubsub.subscribed, timeout=5, every=0.01)
    # The race RQ's shutdown can lose: the thread reads the unsubscribe reply, loops, and
    # waits (60 s) for a subscription before the stop flag is cleared.
    worker.pubsub.unsubscribe()
    assert wait_for(lambda: not worker.pubsub.subscribed, timeout=5, every=0.01)
    time.sleep(0.1)
    began = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - began < PUBSUB_JOIN_SECONDS * 2 + 1


def test_a_burst_worker_runs_its_jobs_and_returns_at_once(rconn):
    queue = queues.get_queue(queues.DEFAULT, rconn)
    job = queue.enqueue("builtins.len", [1, 2, 3])
    worker = SimpleWorker([queue], connection=rconn, serializer="rq.serializers.JSONSerializer")
    began = time.monotonic()
    worker.work(burst=True, logging_level="WARNING")
    assert time.monotonic() - began < 5
    job.refresh()
    assert job.return_value() == 3
