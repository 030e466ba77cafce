"""The WSGI entry point gunicorn serves: the app, with its startup objects out of the collector's sight."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, environ_for

PROBE = """
import gc, time
import app.wsgi
frozen = gc.get_freeze_count()
began = time.perf_counter()
gc.collect()
print(frozen, round((time.perf_counter() - began) * 1000, 1), app.wsgi.application.name)
"""


def test_the_wsgi_app_freezes_what_it_built_so_a_full_collection_stays_short(instance_dir, database_url, redis_url):
    # Unfrozen, a full collection walked the built app's objects: about 150 ms, during which the
    # web process answered nobody. Frozen, it walks what requests left alive.
    env = {**{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
           **environ_for(instance_dir, database_url, redis_url)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    frozen, collect_ms, name = done.stdout.split()
    assert int(frozen) > 100_000 and name == "app"
    assert float(collect_ms) < 50, f"a full collection took {collect_ms} ms"
