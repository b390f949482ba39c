"""``adopt_current_task_as_root`` on a loop run the way a Serve replica runs it (``run_forever``,
no root task): anyio's thread hand-offs find the app's lifespan task instead of scanning every
task on the loop for one (the cost this removes is measured in docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import anyio.to_thread
import pytest
from anyio._backends._asyncio import find_root_task

from app.anyio_root import adopt_current_task_as_root

T = TypeVar("T")


@pytest.fixture
def forever_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


async def request() -> str:
    """What a route's thread hand-off sees as the root, after one hand-off works."""
    assert await anyio.to_thread.run_sync(lambda: 42) == 42
    return find_root_task().get_coro().__name__  # type: ignore[union-attr]


def test_the_lifespan_task_becomes_the_root_of_a_run_forever_loop(
    forever_loop: asyncio.AbstractEventLoop,
) -> None:
    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, forever_loop).result(30)

    assert run(request()) == "request", "no root: anyio falls back to the calling task"
    started = threading.Event()
    adopted: list[bool] = []

    async def lifespan() -> None:
        adopted.append(adopt_current_task_as_root())
        started.set()
        await asyncio.sleep(3600)

    app = asyncio.run_coroutine_threadsafe(lifespan(), forever_loop)
    assert started.wait(5) and adopted == [True]
    assert run(request()) == "lifespan"
    app.cancel()


async def test_a_loop_with_a_root_keeps_it() -> None:
    """Under ``asyncio.run`` (uvicorn, the tests) anyio finds the real root itself."""
    await anyio.to_thread.run_sync(lambda: None)
    assert adopt_current_task_as_root() is False
