"""The hub client every process uses: a ``ShardedHub`` over the K named hub actors.

K is ``MEETING_HUB_SHARDS`` (``Settings.hub_shards``); shard ``i`` is the detached actor
``meetinghub-<i>`` in the ``meetingserve`` namespace, created by whichever process reaches it
first and restarted by Ray after a crash. Callers (the Processor's publishes, each Ingress
replica's long poll, replays, deletes) hold only this router, so none can pick a wrong shard.
"""

from __future__ import annotations

from app.config import Settings
from app.rooms.shards import ShardedHub, shard_of
from deployments.hub import ActorHubClient, hub_actor_name


def connect_hub(database_url: str, shards: int) -> ShardedHub:
    """A router over hub shards ``0..shards-1`` (actors resolved lazily, on first use)."""
    return ShardedHub([ActorHubClient(database_url, i, shards) for i in range(shards)])


def hub_for_settings(settings: Settings) -> ShardedHub:
    """This process's hub client, as its settings say."""
    return connect_hub(settings.resolved_database_url, settings.hub_shards)


def shard_actor_name(meeting_id: str, shards: int) -> str:
    """The name of the hub actor that holds ``meeting_id``'s room (operations, tests)."""
    return hub_actor_name(shard_of(meeting_id, shards))
