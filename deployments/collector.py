"""Garbage-collector settings of the long-running control-plane processes.

Python's default young threshold is 700. An open room socket holds ~470 tracked objects in the
Ingress (Serve's, uvicorn's and Starlette's coroutine chain, ours), so when hundreds connect
the heap grows by 200k+ objects, and with a start-up freeze leaving a small long-lived count a
full collection (35-230 ms on 2 busy cores) ran every 70k allocations while it grew. Ten times
fewer young collections make that every 700k (docs/benchmarks.md, "Fewer collections in the
Ingress").
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 7000


def tune_collector() -> None:
    """The young-generation threshold above; the older generations keep their ratios, so full
    collections stay proportional to growth."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def freeze_startup_heap() -> None:
    """Keep the collector off what start-up built, as Serve does for every replica
    (``RAY_SERVE_FREEZE_GC_ON_STARTUP``); plain actors (hub shards, Serve's proxy) do it
    themselves. Ray's and the database's imports are ~190k objects, a full collection over
    them ~50 ms, and each such pause stalls every socket the process serves."""
    gc.collect()
    gc.freeze()
