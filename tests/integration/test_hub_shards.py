"""Hub shards on the real cluster: meetings on two MeetingHub actors, one killed mid-stream.

The module redeploys the Ingress and the Processor with ``MEETING_HUB_SHARDS=2`` (the model
deployments keep their replicas) and puts the session back to one shard afterwards. Both times
the hub actors of the previous layout are killed first, as docs/operations.md tells operators
to do when they change K.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets

from meetingserve_cli.room import is_terminal
from scripts.synth_meeting import ensure_meeting
from tests.integration.client import ApiUser, register
from tests.integration.conftest import RunningPlatform, wait_ready

SHARDS = 2
WATCHERS_PER_MEETING = 2
JOB_TIMEOUT_S = 300


def kill_hub_actors() -> None:
    """Every hub shard, for good (a new layout's clients create them afresh)."""
    from deployments.hub_shards import hub_actor_names, kill_hub_actors

    kill_hub_actors()
    deadline = time.monotonic() + 30
    while hub_actor_names():
        assert time.monotonic() < deadline, f"hub actors still listed: {hub_actor_names()}"
        time.sleep(0.2)


def deploy_with_shards(platform: RunningPlatform, shards: int | None) -> None:
    """Redeploy the session's app; ``shards`` set on the Ingress and Processor (None: the
    session's own setting, i.e. the deployments as the builder makes them)."""
    from ray import serve

    import deployments.builder as builder
    from deployments.options import AppArgs, TranscriberArgs

    originals = {name: getattr(builder, name) for name in ("Ingress", "Processor")}
    if shards is not None:
        env = {k: v for k, v in os.environ.items() if k.startswith("MEETING_")}
        env["MEETING_HUB_SHARDS"] = str(shards)
        for name, original in originals.items():
            deployment = builder.as_deployment(original)
            options = {**deployment.ray_actor_options, "runtime_env": {"env_vars": env}}
            setattr(builder, name, deployment.options(ray_actor_options=options))
    try:
        # The conftest's application, so the session is left as it was built.
        args = AppArgs(multilingual=TranscriberArgs(model="packaged:base", language=None))
        serve.run(builder.build_app(args), name="meetingserve", route_prefix="/")
    finally:
        for name, original in originals.items():
            setattr(builder, name, original)
    kill_hub_actors()  # those of the old layout; the new clients refuse them (HubLayoutError)
    wait_ready(platform.base_url)


@pytest.fixture(scope="module")
def two_shards(platform: RunningPlatform) -> Iterator[RunningPlatform]:
    deploy_with_shards(platform, SHARDS)
    try:
        yield platform
    finally:
        deploy_with_shards(platform, None)


@dataclass
class Watcher:
    """One room socket through the Serve proxy, keeping every message until the job ends."""

    user: ApiUser
    meeting_id: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        url = f"{self.user.ws_url}/ws/meeting/{self.meeting_id}?last_seq=0"
        subprotocols: Any = ["bearer", self.user.token]
        async with websockets.connect(url, subprotocols=subprotocols) as ws:
            async with asyncio.timeout(JOB_TIMEOUT_S):
                async for raw in ws:
                    message = json.loads(raw)
                    self.messages.append(message)
                    self.connected.set()
                    if is_terminal(message, None):
                        return

    def durable(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if "seq" in m]

    def max_seq(self) -> int:
        return max((int(m["seq"]) for m in self.durable()), default=0)

    def transcripts(self) -> int:
        return sum(1 for m in self.durable() if m["type"] == "transcript")


def meetings_on_each_shard(user: ApiUser) -> list[str]:
    """One new meeting per shard, in shard order."""
    from rooms.shards import shard_of

    found: dict[int, str] = {}
    while len(found) < SHARDS:
        meeting_id = user.create_meeting()
        found.setdefault(shard_of(meeting_id, SHARDS), meeting_id)
    return [found[i] for i in range(SHARDS)]


async def wait_for(predicate: Any, what: str, timeout_s: float = JOB_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout_s}s"
        await asyncio.sleep(0.05)


def stored_events(user: ApiUser, meeting_id: str) -> list[dict[str, Any]]:
    r = user.get(f"/api/meetings/{meeting_id}/events", limit=5000)
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def transcript_segment_ids(user: ApiUser, meeting_id: str) -> list[str]:
    r = user.get(f"/api/meetings/{meeting_id}/transcript")
    assert r.status_code == 200, r.text
    return [str(s["id"]) for s in r.json()["segments"]]


async def test_a_shard_killed_mid_stream_costs_no_watcher_an_event_on_any_shard(
    two_shards: RunningPlatform,
) -> None:
    import ray

    from deployments.hub import HUB_NAMESPACE
    from deployments.hub_shards import hub_actor_names, shard_actor_name

    # The fixture killed the old layout's actors; the new Ingress may have started its own.
    assert set(hub_actor_names()) <= {"meetinghub-0", "meetinghub-1"}
    user = register(two_shards.base_url, two_shards.ws_url)
    steady, victim = meetings_on_each_shard(user)
    watchers = [Watcher(user, m) for m in (steady, victim) for _ in range(WATCHERS_PER_MEETING)]
    tasks = [asyncio.create_task(w.run()) for w in watchers]
    try:
        await wait_for(lambda: all(w.connected.is_set() for w in watchers), "connecting", 60)
        assert hub_actor_names() == ["meetinghub-0", "meetinghub-1"]  # one actor per shard
        steady_actor = ray.get_actor(shard_actor_name(steady, SHARDS), namespace=HUB_NAMESPACE)
        steady_id = steady_actor._actor_id.hex()
        audio = ensure_meeting("standup3", install=True).audio_path  # ~128 s: several windows
        for meeting_id in (victim, steady):  # the victim first: the kill is mid-stream for both
            response = await asyncio.to_thread(user.upload, meeting_id, audio)
            assert response.status_code == 202, response.text
        victims = [w for w in watchers if w.meeting_id == victim]
        await wait_for(lambda: all(w.transcripts() >= 1 for w in victims), "a first segment")
        seen_at_kill = {w.meeting_id: w.max_seq() for w in watchers}
        ray.kill(ray.get_actor(shard_actor_name(victim, SHARDS), namespace=HUB_NAMESPACE))
        await asyncio.wait_for(asyncio.gather(*tasks), JOB_TIMEOUT_S)
    finally:
        for task in tasks:
            task.cancel()
    again = ray.get_actor(shard_actor_name(steady, SHARDS), namespace=HUB_NAMESPACE)
    assert again._actor_id.hex() == steady_id  # the other shard was not touched
    for meeting_id in (steady, victim):
        stored = stored_events(user, meeting_id)
        assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
        assert stored[-1]["type"] == "status" and stored[-1]["status"] == "completed"
        segment_ids = transcript_segment_ids(user, meeting_id)
        assert len(segment_ids) >= 4
        for watcher in (w for w in watchers if w.meeting_id == meeting_id):
            got = watcher.durable()
            # Exactly the stored events, each once, in seq order: no gap, no duplicate.
            assert [(e["seq"], e["event_id"]) for e in got] == [
                (e["seq"], e["event_id"]) for e in stored
            ]
            published = [e["segment"]["id"] for e in got if e["type"] == "transcript"]
            assert sorted(published) == sorted(segment_ids)
            assert len(published) == len(set(published))
        # The kill was mid-stream: this meeting's job went on publishing after it.
        assert seen_at_kill[meeting_id] < len(stored) - 1
        # Both shards, the restarted one too, keep the collector off their start-up heap.
        actor = ray.get_actor(shard_actor_name(meeting_id, SHARDS), namespace=HUB_NAMESPACE)
        assert ray.get(actor.__ray_call__.remote(lambda _: gc.get_freeze_count())) > 0


async def test_a_process_with_another_shard_count_is_refused(
    two_shards: RunningPlatform,
) -> None:
    from deployments.hub import ActorHubClient, HubLayoutError

    user = register(two_shards.base_url, two_shards.ws_url)
    meeting_id = user.create_meeting()
    database_url = f"sqlite:///{two_shards.data_dir / 'meetings.db'}"
    assert await ActorHubClient(database_url, 0, SHARDS).last_seq(meeting_id) == 0
    with pytest.raises(HubLayoutError, match="MEETING_HUB_SHARDS"):
        await ActorHubClient(database_url, 0, 3).last_seq(meeting_id)
