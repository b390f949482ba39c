"""The audio intake's blocking steps share a small thread budget per Ingress replica.

An upload's admission queries, container probe and job creation hold the GIL for a few
milliseconds each. Run for many uploads at once on anyio's default 40 threads, they contend
for the GIL with the event loop that fans events out to every socket of this replica: each
time the loop makes a system call, one of them takes the GIL and keeps it for a switch
interval (5 ms), so every event waits behind the whole intake. The intake is CPU-bound either
way, so a budget of a thread or two costs it no throughput and leaves the loop its turn
(docs/benchmarks.md, "The intake's threads").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import anyio
import anyio.to_thread
from starlette.datastructures import State

T = TypeVar("T")
Args = TypeVarTuple("Args")


def intake_limiter(threads: int) -> anyio.CapacityLimiter:
    """The replica's budget (``app.state.intake``), made before its event loop runs."""
    return anyio.CapacityLimiter(threads)


async def intake_step(state: State, func: Callable[[*Args], T], *args: *Args) -> T:
    """Run one blocking intake step in a thread of the replica's intake budget."""
    return await anyio.to_thread.run_sync(func, *args, limiter=state.intake)
