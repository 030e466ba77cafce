"""Jobs run in a real RQ worker process, inside an app context."""
from __future__ import annotations

from rq.job import Job

from app import queues
from tests.conftest import run_cli, environ_for


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
