"""``ActorHubClient`` against a hub actor that fails transiently, without Ray: the actor handle is
a ``FlakyActor`` over the real event log, and every re-resolution of the named actor yields a
new incarnation of the hub over the same database (as a restarted MeetingHub does)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from ray.exceptions import ActorDiedError, ActorUnavailableError

from deployments import hub as hub_module
from deployments.hub import ActorHubClient
from rooms.hub import EventLog
from tests.unit.orchestration.fakes import FlakyActor, Meeting, Outage


class Incarnations:
    """Stands in for ``get_or_create_hub``: each call starts the hub afresh."""

    def __init__(self, database_url: str, outages: list[Outage]) -> None:
        self.database_url = database_url
        self.outages = outages
        self.started: list[FlakyActor] = []

    def __call__(self, database_url: str, shard: int = 0, shards: int = 1) -> FlakyActor:
        assert database_url == self.database_url
        actor = FlakyActor(EventLog(database_url), self.outages, (shard, shards))
        self.started.append(actor)
        return actor

    @property
    def calls(self) -> list[str]:
        return [method for actor in self.started for method in actor.calls]


def died() -> BaseException:
    return ActorDiedError()


def unavailable() -> BaseException:
    return ActorUnavailableError("the hub's node is restarting", None)


@pytest.fixture
def hub_actor(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[ActorHubClient, Incarnations]]:
    monkeypatch.setattr(hub_module, "RETRY_DELAY_S", 0.0)

    def start(*outages: Outage) -> tuple[ActorHubClient, Incarnations]:
        incarnations = Incarnations(meeting.url, list(outages))
        monkeypatch.setattr(hub_module, "get_or_create_hub", incarnations)
        return ActorHubClient(meeting.url), incarnations

    return start


STATUS = {"type": "status", "status": "processing", "details": {"stage": "upload"}}


async def test_a_publish_is_retried_on_a_new_incarnation_until_the_hub_answers(
    meeting: Meeting, hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]]
) -> None:
    client, incarnations = hub_actor(Outage("publish", 2, died), Outage("last_seq", 1, unavailable))
    stored = await client.publish(meeting.meeting_id, STATUS)
    assert stored["seq"] == 1
    assert incarnations.calls == ["publish"] * 3
    assert len(incarnations.started) == 3, "the actor is re-resolved after each failure"
    assert await client.last_seq(meeting.meeting_id) == 1
    assert len(incarnations.started) == 4
    assert await client.replay(meeting.meeting_id, 0) == [stored]


async def test_a_publish_stored_before_the_hub_died_is_not_stored_twice(
    meeting: Meeting, hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]]
) -> None:
    client, incarnations = hub_actor(Outage("publish", 1, unavailable, after_work=True))
    stored = await client.publish(meeting.meeting_id, STATUS)
    # The retry carried the same event_id; the new incarnation answered with the stored event.
    assert len(incarnations.started) == 2
    assert stored["seq"] == 1 and stored["event_id"]
    following = await client.publish(meeting.meeting_id, {**STATUS, "status": "completed"})
    assert following["seq"] == 2
    replayed = await client.replay(meeting.meeting_id, 0)
    assert [(e["seq"], e["event_id"]) for e in replayed] == [
        (1, stored["event_id"]),
        (2, following["event_id"]),
    ]


async def test_a_batch_stored_before_the_hub_died_is_not_stored_twice(
    meeting: Meeting, hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]]
) -> None:
    client, incarnations = hub_actor(Outage("publish_many", 1, died, after_work=True))
    batch = [{**STATUS, "details": {"stage": "upload", "n": n}} for n in range(3)]
    stored = await client.publish_many(meeting.meeting_id, batch)
    assert incarnations.calls == ["publish_many"] * 2
    assert [e["seq"] for e in stored] == [1, 2, 3]
    replayed = await client.replay(meeting.meeting_id, 0)
    assert [e["event_id"] for e in replayed] == [e["event_id"] for e in stored]


class OlderHub(FlakyActor):
    """A hub actor started by a release without ``publish_many`` (it is detached, so it runs
    the code it started with until someone restarts it)."""

    def __getattr__(self, method: str) -> Any:
        if method == "publish_many":
            raise AttributeError(method)
        return super().__getattr__(method)


async def test_a_batch_for_an_older_hub_actor_goes_one_event_at_a_time(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = OlderHub(EventLog(meeting.url), [])
    monkeypatch.setattr(hub_module, "get_or_create_hub", lambda *_args: older)
    client = ActorHubClient(meeting.url)
    stored = await client.publish_many(meeting.meeting_id, [STATUS, STATUS])
    assert [e["seq"] for e in stored] == [1, 2]
    assert older.calls == ["publish", "publish"]


async def test_a_hub_down_for_longer_than_the_retry_window_fails_the_call(
    meeting: Meeting,
    hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, incarnations = hub_actor(Outage("publish", 10_000, died))
    monkeypatch.setattr(hub_module, "RETRY_DELAY_S", 0.01)
    monkeypatch.setattr(hub_module, "RETRY_WINDOW_S", 0.1)
    with pytest.raises(ActorDiedError):
        await client.publish(meeting.meeting_id, STATUS)
    assert 2 <= len(incarnations.calls) < 10_000, "retried within the window, then gave up"
    assert set(incarnations.calls) == {"publish"}
    assert await client.last_seq(meeting.meeting_id) == 0, "nothing was stored"


async def test_an_error_that_is_not_an_outage_is_not_retried(
    meeting: Meeting, hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]]
) -> None:
    client, incarnations = hub_actor(Outage("replay", 1, lambda: ValueError("bad cursor")))
    with pytest.raises(ValueError, match="bad cursor"):
        await client.replay(meeting.meeting_id, 0)
    assert (incarnations.calls, len(incarnations.started)) == (["replay"], 1)


async def test_a_partial_is_dropped_not_retried_when_the_hub_is_down(
    meeting: Meeting, hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]]
) -> None:
    client, incarnations = hub_actor(Outage("publish_ephemeral", 1, died))
    partial = {"type": "transcript_partial", "segment_id": "u0", "revision": 0}
    assert await client.publish_ephemeral(meeting.meeting_id, partial) == partial
    assert incarnations.calls == ["publish_ephemeral"]
    delivered = await client.publish_ephemeral(meeting.meeting_id, {**partial, "revision": 1})
    assert len(incarnations.started) == 2, "the next call finds the restarted hub"
    assert delivered["revision"] == 1 and "ephemeral_id" in delivered


async def test_a_listen_interrupted_by_an_outage_raises_and_the_next_one_reconnects(
    meeting: Meeting, hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]]
) -> None:
    client, incarnations = hub_actor(Outage("listen", 1, unavailable))
    stored = await client.publish(meeting.meeting_id, STATUS)
    with pytest.raises(ActorUnavailableError):
        await client.listen({meeting.meeting_id: 0}, timeout_s=0.1)
    # The caller (the fan-out) listens again; the client resolves the hub afresh.
    assert await client.listen({meeting.meeting_id: 0}, timeout_s=0.1) == {
        meeting.meeting_id: [stored]
    }
    assert len(incarnations.started) == 2


async def test_callers_that_arrive_together_share_one_resolution_of_the_actor(
    meeting: Meeting, hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]]
) -> None:
    """Hundreds of sockets' first polls when a replica starts: one handle, one layout check."""
    client, incarnations = hub_actor()
    seqs = await asyncio.gather(*(client.last_seq(meeting.meeting_id) for _ in range(50)))
    assert seqs == [0] * 50
    assert len(incarnations.started) == 1


async def test_a_caller_that_gives_up_does_not_fail_the_others_waiting_for_the_actor(
    meeting: Meeting, hub_actor: Callable[..., tuple[ActorHubClient, Incarnations]]
) -> None:
    client, incarnations = hub_actor()
    leaving = asyncio.create_task(client.last_seq(meeting.meeting_id))
    staying = asyncio.create_task(client.last_seq(meeting.meeting_id))
    await asyncio.sleep(0)  # both wait for the resolution
    leaving.cancel()
    assert await staying == 0
    assert leaving.cancelled()
    assert len(incarnations.started) == 1
