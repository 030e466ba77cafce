"""Garbage collection for long-running processes, set once their app is built.

CPython's full collection walks every object that outlived the young generations, and a
built app (SQLAlchemy's mappers, pydantic models, templates, the OpenAPI document) holds
hundreds of thousands of them: a web process stopped for about 150 ms at each full
collection, the slowest answer its clients saw. What is alive once the app is ready lives
as long as the process, so it is frozen out of the collector's sight, which also keeps its
memory pages shared with forked children.
"""
from __future__ import annotations

import gc


def freeze_startup(threshold: tuple[int, int, int] | None = None) -> None:
    """Call when the process's app is built, before it serves; `threshold` as gc.set_threshold."""
    gc.collect()
    gc.freeze()
    if threshold is not None:
        gc.set_threshold(*threshold)
