"""Hub shard counts per profile: the load and GPU profiles spread rooms over two hub actors,
the CPU profile keeps one; the benchmark's own environment never drops the profile's."""

from __future__ import annotations

import pytest

from benchmarks.platform import profile_application, profile_hub_shards
from settings.config import Settings


@pytest.mark.parametrize(("profile", "shards"), [("cpu", 1), ("load", 2), ("gpu", 2)])
def test_each_profile_sets_its_hub_shards(profile: str, shards: int) -> None:
    assert profile_hub_shards(profile) == shards
    env_vars = profile_application(profile).get("runtime_env", {}).get("env_vars", {})
    assert Settings.model_validate({"hub_shards": env_vars.get("MEETING_HUB_SHARDS", 1)})


def test_hub_shards_setting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEETING_HUB_SHARDS", raising=False)
    assert Settings().hub_shards == 1
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Settings(hub_shards=0)
