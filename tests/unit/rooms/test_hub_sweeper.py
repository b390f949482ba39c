"""The hub actor's class (run in-process, no Ray): idle rooms go on a timer, not only when
another call happens to sweep, so a shard whose meetings all went quiet frees them too."""

from __future__ import annotations

import asyncio

import pytest

import deployments.hub as hub_module
from deployments.hub import MeetingHub
from tests.unit.rooms.conftest import Member


async def test_a_quiet_shard_evicts_its_idle_rooms_without_further_calls(
    database_url: str, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "ROOM_SWEEP_EVERY_S", 0.05)
    hub = MeetingHub(database_url, shard=1, shards=2)
    hub._room_idle_s = 0.2  # the default is 10 minutes
    assert hub.layout() == (1, 2)
    assert await hub.last_seq(alice.meeting_id) == 0
    assert hub.open_rooms == 1
    await asyncio.sleep(0.1)
    assert hub.open_rooms == 1  # not idle long enough yet
    for _ in range(40):  # no call to the hub from here on
        if hub.open_rooms == 0:
            break
        await asyncio.sleep(0.05)
    assert hub.open_rooms == 0
    assert hub._sweeper is not None
    hub._sweeper.cancel()
