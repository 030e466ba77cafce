"""The WSGI application for servers that import one: gunicorn serves `app.wsgi:application`.

Built once per process (gunicorn imports it in each worker), then its startup objects are
frozen out of the garbage collector's sight (app/heap.py).
"""
from __future__ import annotations

from app import create_app
from app.heap import freeze_startup

application = create_app()
freeze_startup()
