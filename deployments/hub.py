"""The MeetingHub: one named, detached Ray actor running ``app.rooms.hub.EventLog``.

Any Ingress replica or Processor reaches it by name (``get_if_exists``), so every replica can
stream every meeting. It is restartable; a new incarnation continues each meeting's seq from
the database. ``ActorHubClient`` re-resolves the actor after a kill and retries; a publish is
retried with the same ``event_id``, so a hub that stored it before dying is not asked to store
it twice (the new incarnation recognises the id and answers with the stored event).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, cast

import ray
from ray.actor import ActorHandle
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

from app.db import upgrade_database
from app.rooms.hub import LISTEN_TIMEOUT_S, REPLAY_PAGE, Event, EventLog
from deployments.metrics import record_event_published

logger = logging.getLogger(__name__)

HUB_NAME = "MeetingHub"
HUB_NAMESPACE = "meetingserve"
RETRIES = 20
RETRY_DELAY_S = 0.25
_UNAVAILABLE = (ActorDiedError, ActorUnavailableError, RayActorError)


class MeetingHub(EventLog):
    def __init__(self, database_url: str) -> None:
        upgrade_database(database_url)  # idempotent; the hub may start before any Ingress
        super().__init__(database_url)

    async def publish(self, meeting_id: str, event: Event) -> Event:
        stored = await super().publish(meeting_id, event)
        record_event_published(str(stored.get("type", "")))
        return stored

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        message = await super().publish_ephemeral(meeting_id, event)
        record_event_published(str(message.get("type", "")))
        return message


MeetingHubActor = ray.remote(MeetingHub)


def get_or_create_hub(database_url: str) -> ActorHandle:
    options: dict[str, Any] = {
        "name": HUB_NAME,
        "namespace": HUB_NAMESPACE,
        "lifetime": "detached",
        "get_if_exists": True,
        "max_restarts": -1,
        "max_concurrency": 10_000,
        "num_cpus": 0,
    }
    return cast(ActorHandle, MeetingHubActor.options(**options).remote(database_url))


class ActorHubClient:
    """``HubClient`` over the named actor."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._actor: ActorHandle | None = None

    async def publish(self, meeting_id: str, event: Event) -> Event:
        """Publish once, whatever the retries: every attempt carries the same ``event_id``."""
        identified = {**event, "event_id": event.get("event_id") or uuid.uuid4().hex}
        result: Event = await self._call("publish", meeting_id, identified)
        return result

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        """One attempt, no retries: a lost partial is replaced by the next one within a second."""
        try:
            result: Event = await self._handle().publish_ephemeral.remote(meeting_id, event)
        except _UNAVAILABLE:
            self._actor = None
            logger.info("MeetingHub unavailable; partial for %s dropped", meeting_id)
            return event
        return result

    async def listen(
        self,
        cursors: dict[str, int],
        timeout_s: float = LISTEN_TIMEOUT_S,
        ephemeral_after: int | None = None,
    ) -> dict[str, list[Event]]:
        ref: Any = self._handle().listen.remote(cursors, timeout_s, ephemeral_after)
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

    def _handle(self) -> ActorHandle:
        if self._actor is None:
            self._actor = get_or_create_hub(self._database_url)
        return self._actor

    async def _call(self, method: str, *args: Any) -> Any:
        for attempt in range(RETRIES):
            try:
                return await getattr(self._handle(), method).remote(*args)
            except _UNAVAILABLE:
                if attempt == RETRIES - 1:
                    raise
                logger.warning("MeetingHub unavailable for %s; retrying", method)
                self._actor = None
                await asyncio.sleep(RETRY_DELAY_S)
        raise AssertionError("unreachable")
