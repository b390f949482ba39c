"""Hub shards start with the Ingress, not on the first socket (the Ray actors are faked)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import deployments.hub_shards as hub_shards


class FakeMethod:
    def __init__(self, answer: tuple[int, int], asked: list[tuple[int, int]]) -> None:
        self._answer = answer
        self._asked = asked

    def remote(self) -> Any:
        async def answer() -> tuple[int, int]:
            await asyncio.sleep(0)
            self._asked.append(self._answer)
            return self._answer

        return answer()


class FakeHub:
    def __init__(self, shard: int, shards: int, asked: list[tuple[int, int]]) -> None:
        self.layout = FakeMethod((shard, shards), asked)


def test_every_shard_is_started_and_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[tuple[str, int, int]] = []
    loaded: list[tuple[int, int]] = []

    def get_or_create(url: str, shard: int, shards: int) -> FakeHub:
        created.append((url, shard, shards))
        return FakeHub(shard, shards, loaded)

    monkeypatch.setattr(hub_shards, "get_or_create_hub", get_or_create)
    asyncio.run(hub_shards.start_hub_shards("sqlite:///x.db", 3))
    assert created == [("sqlite:///x.db", i, 3) for i in range(3)]
    assert sorted(loaded) == [(0, 3), (1, 3), (2, 3)]
