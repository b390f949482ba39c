"""A room socket's keepalive timer and its too-slow future (``app/sockets``)."""

from __future__ import annotations

import asyncio

from app.sockets.fanout import Subscriber
from app.sockets.keepalive import KeepaliveTimer


async def test_an_idle_socket_gets_a_keepalive_each_interval() -> None:
    subscriber = Subscriber("m1", 0, queue_size=10)
    timer = KeepaliveTimer(subscriber, 0.05)
    try:
        first = await asyncio.wait_for(subscriber.queue.get(), 2)
        timer.sent()
        second = await asyncio.wait_for(subscriber.queue.get(), 2)
        assert first["type"] == second["type"] == "keepalive"
    finally:
        timer.cancel()


async def test_a_socket_that_keeps_sending_gets_no_keepalive() -> None:
    subscriber = Subscriber("m1", 0, queue_size=10)
    timer = KeepaliveTimer(subscriber, 0.2)
    try:
        for _ in range(8):  # 0.4 s of sends 0.05 s apart: never idle for 0.2 s
            await asyncio.sleep(0.05)
            timer.sent()
        assert subscriber.queue.empty()
        await asyncio.wait_for(subscriber.queue.get(), 2)  # once it stops, one comes
    finally:
        timer.cancel()


async def test_no_keepalive_is_added_to_a_queue_about_to_be_sent() -> None:
    subscriber = Subscriber("m1", 0, queue_size=10)
    subscriber.send({"type": "status", "seq": 1})
    timer = KeepaliveTimer(subscriber, 0.02)
    await asyncio.sleep(0.1)
    timer.cancel()
    assert [subscriber.queue.get_nowait()["type"]] == ["status"] and subscriber.queue.empty()


async def test_a_cancelled_timer_queues_nothing() -> None:
    subscriber = Subscriber("m1", 0, queue_size=10)
    KeepaliveTimer(subscriber, 0.02).cancel()
    await asyncio.sleep(0.1)
    assert subscriber.queue.empty()


async def test_too_slow_resolves_on_overflow_whenever_it_was_asked_for() -> None:
    early = Subscriber("m1", 0, queue_size=1)
    waiting = early.too_slow()
    for seq in (1, 2):
        early.send({"type": "status", "seq": seq})
    await asyncio.wait_for(waiting, 1)

    late = Subscriber("m1", 0, queue_size=1)
    for seq in (1, 2):
        late.send({"type": "status", "seq": seq})
    assert late.overflowed and late.too_slow().done()


async def test_too_slow_stays_pending_while_the_queue_has_room() -> None:
    subscriber = Subscriber("m1", 0, queue_size=2)
    subscriber.send({"type": "status", "seq": 1})
    assert not subscriber.too_slow().done()
