"""Rooms on the real cluster: two Ingress replicas, the named hub actor, resume across failures.

The module scales the Ingress to two replicas for its tests and scales it back afterwards, so
the session's shared ``platform`` fixture is left as it found it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.integration.client import ApiUser, register
from tests.integration.conftest import RunningPlatform, wait_ready

INGRESS_REPLICAS = 2
SERVE_NAMESPACE = "serve"
INGRESS_PREFIX = "SERVE_REPLICA::meetingserve#Ingress#"


def ingress_replica_names() -> list[str]:
    import ray

    return sorted(
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["namespace"] == SERVE_NAMESPACE and a["name"].startswith(INGRESS_PREFIX)
    )


def wait_for_ingress_replicas(count: int, timeout_s: float = 180) -> None:
    from ray import serve

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app = serve.status().applications.get("meetingserve")
        states = app.deployments["Ingress"].replica_states if app else {}
        running = sum(n for state, n in states.items() if str(state).endswith("RUNNING"))
        if running == count and len(ingress_replica_names()) == count:
            return
        time.sleep(0.5)
    raise TimeoutError(f"Ingress did not reach {count} running replicas in {timeout_s}s")


def deploy_ingress(platform: RunningPlatform, replicas: int) -> None:
    """Redeploy the app with the Ingress at ``replicas``, built by the project's own builder."""
    from ray import serve

    import deployments.builder as builder
    from deployments.options import AppArgs

    original = builder.Ingress
    # build_app reads the module global, so the override follows whatever the builder wires.
    setattr(builder, "Ingress", builder.as_deployment(original).options(num_replicas=replicas))  # noqa: B010
    try:
        serve.run(builder.build_app(AppArgs()), name="meetingserve", route_prefix="/")
    finally:
        setattr(builder, "Ingress", original)  # noqa: B010
    wait_for_ingress_replicas(replicas)
    wait_ready(platform.base_url)


@pytest.fixture(scope="module")
def two_ingress(platform: RunningPlatform) -> Iterator[RunningPlatform]:
    deploy_ingress(platform, INGRESS_REPLICAS)
    try:
        yield platform
    finally:
        deploy_ingress(platform, 1)


@pytest.fixture
async def opened() -> AsyncIterator[list[ClientConnection]]:
    """Sockets a test opened; closed at teardown even when the test fails (an open socket
    keeps an Ingress replica draining for its whole graceful-shutdown period)."""
    sockets: list[ClientConnection] = []
    yield sockets
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


@pytest.fixture
async def hub(two_ingress: RunningPlatform) -> AsyncIterator[Any]:
    from deployments.hub_shards import connect_hub
    from settings.config import get_settings

    database_url = f"sqlite:///{two_ingress.data_dir / 'meetings.db'}"
    yield connect_hub(database_url, get_settings().hub_shards)


def hub_actor_of(meeting_id: str) -> Any:
    """The hub actor (shard) holding ``meeting_id``'s room."""
    import ray

    from deployments.hub import HUB_NAMESPACE
    from deployments.hub_shards import shard_actor_name
    from settings.config import get_settings

    name = shard_actor_name(meeting_id, get_settings().hub_shards)
    return ray.get_actor(name, namespace=HUB_NAMESPACE)


def room_url(user: ApiUser, meeting_id: str, last_seq: int | None = None) -> str:
    url = f"{user.ws_url}/ws/meeting/{meeting_id}?token={user.token}"
    return url if last_seq is None else f"{url}&last_seq={last_seq}"


async def recv_json(ws: ClientConnection, timeout_s: float = 20) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
    return message


async def recv_durable(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while len(events) < count:
        message = await recv_json(ws)
        if "seq" in message:
            events.append(message)
    return events


async def open_on_both_replicas(
    url: str, opened: list[ClientConnection], limit: int = 16
) -> dict[str, ClientConnection]:
    """One socket per Ingress replica (keyed by the ``server_id`` each announces)."""
    by_server: dict[str, ClientConnection] = {}
    for _ in range(limit):
        ws = await connect(url)
        opened.append(ws)
        server_id = (await recv_json(ws))["server_id"]
        if server_id in by_server:
            await ws.close()
        else:
            by_server[server_id] = ws
        if len(by_server) == INGRESS_REPLICAS:
            return by_server
    raise AssertionError(f"{limit} sockets all landed on {sorted(by_server)}")


async def publish(hub: Any, meeting_id: str, n: int, tag: str) -> list[int]:
    events = [
        await hub.publish(
            meeting_id,
            {
                "type": "status",
                "status": "processing",
                "details": {"message": f"{tag}{i}", "stage": "upload"},
            },
        )
        for i in range(n)
    ]
    return [int(e["seq"]) for e in events]


async def test_clients_on_different_replicas_each_get_every_event_of_their_meeting_only(
    two_ingress: RunningPlatform, hub: Any, opened: list[ClientConnection]
) -> None:
    alice = register(two_ingress.base_url, two_ingress.ws_url)
    bob = register(two_ingress.base_url, two_ingress.ws_url)
    mine, theirs = alice.create_meeting(), bob.create_meeting()
    sockets = await open_on_both_replicas(room_url(alice, mine), opened)
    async with connect(room_url(bob, theirs)) as bob_ws:
        await recv_json(bob_ws)
        for i in range(5):
            await publish(hub, mine, 2, f"a{i}-")
            await publish(hub, theirs, 1, f"b{i}-")
        for ws in sockets.values():
            events = await recv_durable(ws, 10)
            assert [e["seq"] for e in events] == list(range(1, 11))
            assert {e["meeting_id"] for e in events} == {mine}
            assert [e["details"]["message"] for e in events[:3]] == ["a0-0", "a0-1", "a1-0"]
        bob_events = await recv_durable(bob_ws, 5)
        assert [(e["seq"], e["meeting_id"]) for e in bob_events] == [
            (i, theirs) for i in range(1, 6)
        ]
        for ws in [*sockets.values(), bob_ws]:  # nothing else is queued: the next reply is pong
            await ws.send(json.dumps({"type": "ping"}))
            assert (await recv_json(ws))["type"] == "pong"
    for ws in sockets.values():
        await ws.close()


async def test_reconnect_with_last_seq_gets_exactly_the_missed_events(
    two_ingress: RunningPlatform, hub: Any, opened: list[ClientConnection]
) -> None:
    alice = register(two_ingress.base_url, two_ingress.ws_url)
    meeting = alice.create_meeting()
    async with connect(room_url(alice, meeting)) as ws:
        await recv_json(ws)
        await publish(hub, meeting, 3, "before")
        last = (await recv_durable(ws, 3))[-1]["seq"]
    await publish(hub, meeting, 4, "missed")
    async with connect(room_url(alice, meeting, last_seq=last)) as ws:
        assert (await recv_json(ws))["last_seq"] == 7
        missed = await recv_durable(ws, 4)
        assert [(e["seq"], e["details"]["message"]) for e in missed] == [
            (4, "missed0"),
            (5, "missed1"),
            (6, "missed2"),
            (7, "missed3"),
        ]
        await publish(hub, meeting, 1, "live")
        assert [e["seq"] for e in await recv_durable(ws, 1)] == [8]


async def test_stream_survives_a_killed_hub_actor_without_gap_or_reuse(
    two_ingress: RunningPlatform, hub: Any, opened: list[ClientConnection]
) -> None:
    import ray

    alice = register(two_ingress.base_url, two_ingress.ws_url)
    meeting = alice.create_meeting()
    sockets = await open_on_both_replicas(room_url(alice, meeting), opened)
    await publish(hub, meeting, 3, "before")
    for ws in sockets.values():
        assert [e["seq"] for e in await recv_durable(ws, 3)] == [1, 2, 3]
    ray.kill(hub_actor_of(meeting))  # mid-stream
    assert await publish(hub, meeting, 3, "after") == [4, 5, 6]  # seq continues from the DB
    for ws in sockets.values():  # each replica's long poll re-resolves the new hub
        events = await recv_durable(ws, 3)
        assert [(e["seq"], e["details"]["message"]) for e in events] == [
            (4, "after0"),
            (5, "after1"),
            (6, "after2"),
        ]
    closed = next(iter(sockets.values()))
    await closed.close()
    ray.kill(hub_actor_of(meeting))
    await publish(hub, meeting, 2, "away")
    async with connect(room_url(alice, meeting, last_seq=6)) as ws:
        await recv_json(ws)
        assert [e["seq"] for e in await recv_durable(ws, 2)] == [7, 8]
    for ws in sockets.values():
        await ws.close()


async def test_token_in_query_never_reaches_serve_logs(
    two_ingress: RunningPlatform, hub: Any, opened: list[ClientConnection]
) -> None:
    import ray

    alice = register(two_ingress.base_url, two_ingress.ws_url)
    meeting = alice.create_meeting()
    sockets = await open_on_both_replicas(room_url(alice, meeting, last_seq=0), opened)
    await publish(hub, meeting, 1, "x")
    for ws in sockets.values():
        await recv_durable(ws, 1)
        await ws.close()
    await asyncio.sleep(3)  # log files are flushed asynchronously
    node = ray._private.worker._global_node
    assert node is not None
    logs = Path(node.get_session_dir_path()) / "logs"
    files = [p for p in logs.rglob("*") if p.is_file()]
    assert any("ws/meeting" in p.read_text(errors="replace") for p in files)
    signature = alice.token.rsplit(".", 1)[1]
    leaking = [str(p) for p in files if signature in p.read_text(errors="replace")]
    assert leaking == []


async def test_killed_ingress_replica_clients_resume_on_the_other(
    two_ingress: RunningPlatform, hub: Any, opened: list[ClientConnection]
) -> None:
    import ray

    alice = register(two_ingress.base_url, two_ingress.ws_url)
    meeting = alice.create_meeting()
    sockets = await open_on_both_replicas(room_url(alice, meeting), opened)
    await publish(hub, meeting, 2, "before")
    for ws in sockets.values():
        assert [e["seq"] for e in await recv_durable(ws, 2)] == [1, 2]
    victim = ingress_replica_names()[0]
    ray.kill(ray.get_actor(victim, namespace=SERVE_NAMESPACE), no_restart=True)
    await publish(hub, meeting, 3, "during")
    survivors, dropped = [], []
    for ws in sockets.values():
        try:
            events = await recv_durable(ws, 3)
            assert [e["seq"] for e in events] == [3, 4, 5]
            survivors.append(ws)
        except Exception:  # the killed replica's socket: closed (or silent) mid-stream
            dropped.append(ws)
    assert (len(survivors), len(dropped)) == (1, 1)
    async with connect(room_url(alice, meeting, last_seq=2)) as ws:
        await recv_json(ws)
        assert [e["seq"] for e in await recv_durable(ws, 3)] == [3, 4, 5]
        await publish(hub, meeting, 1, "live")
        assert [e["seq"] for e in await recv_durable(ws, 1)] == [6]
    for ws in sockets.values():
        await ws.close()
    wait_for_ingress_replicas(INGRESS_REPLICAS)  # Serve replaced it
