"""Hub shards start with the Ingress, not on the first socket (the Ray actors are faked)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import deployments.hub as hub
from deployments.hub_shards import shard_clients, start_hub_shards


class FakeMethod:
    def __init__(self, answer: tuple[int, int]) -> None:
        self._answer = answer

    def remote(self) -> Any:
        async def answer() -> tuple[int, int]:
            await asyncio.sleep(0)
            return self._answer

        return answer()


class FakeHub:
    def __init__(self, shard: int, shards: int) -> None:
        self.layout = FakeMethod((shard, shards))


def test_every_shard_is_started_once_and_kept_by_its_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created: list[tuple[str, int, int]] = []

    def get_or_create(url: str, shard: int, shards: int) -> FakeHub:
        created.append((url, shard, shards))
        return FakeHub(shard, shards)

    monkeypatch.setattr(hub, "get_or_create_hub", get_or_create)
    clients = shard_clients("sqlite:///x.db", 3)

    async def start_then_use() -> list[Any]:
        await start_hub_shards(clients)
        return [await client._handle() for client in clients]  # the router's first calls

    actors = asyncio.run(start_then_use())
    assert created == [("sqlite:///x.db", i, 3) for i in range(3)]  # no second resolution
    assert [actor.layout._answer for actor in actors] == [(0, 3), (1, 3), (2, 3)]


def test_a_shard_of_another_layout_fails_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "get_or_create_hub", lambda url, shard, shards: FakeHub(shard, 1))
    with pytest.raises(hub.HubLayoutError):
        asyncio.run(start_hub_shards(shard_clients("sqlite:///x.db", 2)))
