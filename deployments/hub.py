"""The MeetingHub: a named, detached Ray actor running ``rooms.hub.EventLog``, one per
hub shard (``meetinghub-0`` .. ``meetinghub-<K-1>``; ``deployments/hub_shards.py`` routes
meetings to them).

Any Ingress replica or Processor reaches a shard by name (``get_if_exists``), so every replica
can stream every meeting. It is restartable; a new incarnation continues each meeting's seq from
the database. ``ActorHubClient`` re-resolves the actor after a kill and retries; a publish is
retried with the same ``event_id``, so a hub that stored it before dying is not asked to store
it twice (the new incarnation recognises the id and answers with the stored event).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, cast

import ray
from ray.actor import ActorHandle
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

from deployments.collector import freeze_startup_heap
from deployments.metrics import record_event_published
from persistence import upgrade_database
from rooms.hub import (
    LISTEN_TIMEOUT_S,
    REPLAY_PAGE,
    ROOM_SWEEP_EVERY_S,
    Event,
    EventLog,
    _Room,
)

logger = logging.getLogger(__name__)

HUB_NAME_PREFIX = "meetinghub"
HUB_NAMESPACE = "meetingserve"
# How long a call waits for a hub shard that Ray is restarting (a new process, imports and a
# database check: seconds on a loaded node) before the caller sees the failure.
RETRY_WINDOW_S = 30.0
RETRY_DELAY_S = 0.25
_UNAVAILABLE = (ActorDiedError, ActorUnavailableError, RayActorError)


class HubLayoutError(Exception):
    """A hub actor was started for another shard layout than this process uses."""

    def __init__(self, name: str, found: tuple[int, int], expected: tuple[int, int]) -> None:
        super().__init__(
            f"hub actor {name!r} serves shard {found[0]} of {found[1]}, but this process "
            f"expects shard {expected[0]} of {expected[1]}: every process must have the same "
            "MEETING_HUB_SHARDS; after changing it, stop the application, run "
            "`python -m deployments.hub_shards kill` and deploy again"
        )
        self.name = name
        self.found = found
        self.expected = expected


class MeetingHub(EventLog):
    def __init__(
        self, database_url: str, shard: int = 0, shards: int = 1, freeze_heap: bool = False
    ) -> None:
        upgrade_database(database_url)  # idempotent; the hub may start before any Ingress
        super().__init__(database_url)
        self._layout = (shard, shards)
        self._sweeper: asyncio.Task[None] | None = None
        if freeze_heap:
            freeze_startup_heap()

    def layout(self) -> tuple[int, int]:
        """(this shard's index, shard count) it was started for; clients check it once."""
        return self._layout

    async def _room(self, meeting_id: str) -> _Room:
        # Eviction also runs on a timer: a shard whose meetings all went quiet gets no calls
        # that would sweep it, and would keep their rooms until the next one.
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever())
        return await super()._room(meeting_id)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(ROOM_SWEEP_EVERY_S)
            self._evict_idle_rooms()

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]:
        stored = await super().publish_many(meeting_id, events)
        for event in stored:
            record_event_published(str(event.get("type", "")))
        return stored

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        message = await super().publish_ephemeral(meeting_id, event)
        record_event_published(str(message.get("type", "")))
        return message


MeetingHubActor = ray.remote(MeetingHub)


def hub_actor_name(shard: int) -> str:
    """The Ray actor name of hub shard ``shard`` (namespace ``HUB_NAMESPACE``)."""
    return f"{HUB_NAME_PREFIX}-{shard}"


def get_or_create_hub(database_url: str, shard: int = 0, shards: int = 1) -> ActorHandle:
    """The handle of shard ``shard``'s actor; created (for ``shards`` shards) if missing."""
    options: dict[str, Any] = {
        "name": hub_actor_name(shard),
        "namespace": HUB_NAMESPACE,
        "lifetime": "detached",
        "get_if_exists": True,
        "max_restarts": -1,
        "max_concurrency": 10_000,
        "num_cpus": 0,
    }
    actor = MeetingHubActor.options(**options).remote(database_url, shard, shards, freeze_heap=True)
    return cast(ActorHandle, actor)


class ActorHubClient:
    """``HubClient`` over one named hub actor (one shard; ``hub_shards.connect_hub`` builds
    the router over all of them, which is what callers use)."""

    def __init__(self, database_url: str, shard: int = 0, shards: int = 1) -> None:
        self._database_url = database_url
        self._layout = (shard, shards)
        self._name = hub_actor_name(shard)
        self._actor: ActorHandle | None = None
        self._resolving: asyncio.Task[ActorHandle] | None = None

    async def publish(self, meeting_id: str, event: Event) -> Event:
        """Publish once, whatever the retries: every attempt carries the same ``event_id``."""
        identified = {**event, "event_id": event.get("event_id") or uuid.uuid4().hex}
        result: Event = await self._call("publish", meeting_id, identified)
        return result

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]:
        """``publish`` for several events, in one call and one transaction of the hub."""
        identified = [{**e, "event_id": e.get("event_id") or uuid.uuid4().hex} for e in events]
        if not hasattr(await self._handle(), "publish_many"):
            # A detached hub actor started by a release before publish_many (it runs the code
            # it started with until it is restarted): one call per event, as that release did.
            return [await self._call("publish", meeting_id, e) for e in identified]
        result: list[Event] = await self._call("publish_many", meeting_id, identified)
        return result

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        """One attempt, no retries: a lost partial is replaced by the next one within a second."""
        try:
            handle = await self._handle()
            result: Event = await handle.publish_ephemeral.remote(meeting_id, event)
        except _UNAVAILABLE:
            self._actor = None
            logger.info("%s unavailable; partial for %s dropped", self._name, meeting_id)
            return event
        return result

    async def listen(
        self,
        cursors: dict[str, int],
        timeout_s: float = LISTEN_TIMEOUT_S,
        ephemeral_after: int | None = None,
    ) -> dict[str, list[Event]]:
        try:
            handle = await self._handle()
        except _UNAVAILABLE:
            self._actor = None
            raise
        ref: Any = handle.listen.remote(cursors, timeout_s, ephemeral_after)
        try:
            result: dict[str, list[Event]] = await ref
        except asyncio.CancelledError:
            ray.cancel(ref)  # do not leave a 30 s poll parked in the hub
            raise
        except _UNAVAILABLE:
            self._actor = None
            raise
        return result

    async def last_seq(self, meeting_id: str) -> int:
        result: int = await self._call("last_seq", meeting_id)
        return result

    async def forget(self, meeting_id: str) -> None:
        await self._call("forget", meeting_id)

    async def replay(
        self, meeting_id: str, after_seq: int, limit: int = REPLAY_PAGE
    ) -> list[Event]:
        result: list[Event] = await self._call("replay", meeting_id, after_seq, limit)
        return result

    async def start(self) -> None:
        """Resolve the actor now rather than on the first call (``start_hub_shards``)."""
        await self._handle()

    async def _handle(self) -> ActorHandle:
        """The actor, resolved (or created) by name. Callers that need it at the same time
        share one resolution: when a replica starts, or after a hub restart, hundreds of
        sockets' polls arrive at once, and each building its own handle (20-odd method
        records) and asking the actor its layout cost a burst of CPU and memory."""
        if self._actor is not None:
            return self._actor
        loop = asyncio.get_running_loop()
        task = self._resolving
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._resolving = loop.create_task(self._resolve())
        # Shielded: one caller giving up (a closed socket) does not fail the others.
        return await asyncio.shield(task)

    async def _resolve(self) -> ActorHandle:
        """Its layout is checked once per resolution, so a process with another
        MEETING_HUB_SHARDS fails loudly instead of splitting a meeting's room over two
        actors."""
        actor = get_or_create_hub(self._database_url, *self._layout)
        found = tuple(await actor.layout.remote())
        if found != self._layout:
            raise HubLayoutError(self._name, (found[0], found[1]), self._layout)
        self._actor = actor
        return actor

    async def _call(self, method: str, *args: Any) -> Any:
        deadline = time.monotonic() + RETRY_WINDOW_S
        while True:
            try:
                return await getattr(await self._handle(), method).remote(*args)
            except _UNAVAILABLE:
                self._actor = None
                if time.monotonic() >= deadline:
                    raise
                logger.warning("%s unavailable for %s; retrying", self._name, method)
                await asyncio.sleep(RETRY_DELAY_S)
