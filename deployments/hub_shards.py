"""The hub client every process uses: a ``ShardedHub`` over the K named hub actors.

K is ``MEETING_HUB_SHARDS`` (``Settings.hub_shards``); shard ``i`` is the detached actor
``meetinghub-<i>`` in the ``meetingserve`` namespace, created by whichever process reaches it
first and restarted by Ray after a crash. Callers (the Processor's publishes, each Ingress
replica's long poll, replays, deletes) hold only this router, so none can pick a wrong shard.

Changing K (docs/operations.md "Hub shards"): stop the application, then

    python -m deployments.hub_shards kill      # every hub actor, for good

and deploy with the new value. Each Ingress replica starts the layout's actors as it starts
(``start_hub_shards``), so the first meeting's sockets do not wait for one to start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from deployments.hub import HUB_NAME_PREFIX, HUB_NAMESPACE, ActorHubClient, hub_actor_name
from rooms.shards import ShardedHub, shard_of
from settings.config import Settings

logger = logging.getLogger(__name__)
LEGACY_HUB_NAME = "MeetingHub"  # the single hub actor of releases before shards


def shard_clients(database_url: str, shards: int) -> list[ActorHubClient]:
    """One client per hub shard ``0..shards-1`` (actors resolved lazily, on first use)."""
    return [ActorHubClient(database_url, i, shards) for i in range(shards)]


def connect_hub(database_url: str, shards: int) -> ShardedHub:
    """A router over hub shards ``0..shards-1``."""
    return ShardedHub(shard_clients(database_url, shards))


async def start_hub_shards(clients: Sequence[ActorHubClient]) -> None:
    """Resolve every shard's actor now (started or found, its layout checked) and keep it in
    its client. Started on first use instead, a shard made the first socket of its first
    meeting wait about 1.4 s on 2 cores (its process imports Ray and the database layer)."""
    await asyncio.gather(*(client.start() for client in clients))


def hub_for_settings(settings: Settings) -> ShardedHub:
    """This process's hub client, as its settings say."""
    return connect_hub(settings.resolved_database_url, settings.hub_shards)


def shard_actor_name(meeting_id: str, shards: int) -> str:
    """The name of the hub actor that holds ``meeting_id``'s room (operations, tests)."""
    return hub_actor_name(shard_of(meeting_id, shards))


def hub_actor_names() -> list[str]:
    """The hub actors alive in this Ray cluster (``ray.init`` done), shards and legacy."""
    import ray

    return sorted(
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["namespace"] == HUB_NAMESPACE
        and (a["name"].startswith(f"{HUB_NAME_PREFIX}-") or a["name"] == LEGACY_HUB_NAME)
    )


def kill_hub_actors() -> list[str]:
    """Kill every hub actor for good (no restart); returns their names. Nothing durable is
    lost: the next layout's actors reload rooms from the database."""
    import ray

    names = hub_actor_names()
    for name in names:
        ray.kill(ray.get_actor(name, namespace=HUB_NAMESPACE), no_restart=True)
        logger.info("killed hub actor %s", name)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deployments.hub_shards")
    parser.add_argument("command", choices=["list", "kill"])
    parser.add_argument("--address", default="auto", help="Ray cluster address")
    opts = parser.parse_args(argv)
    import ray

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ray.init(address=opts.address, logging_level=logging.WARNING)
    names = kill_hub_actors() if opts.command == "kill" else hub_actor_names()
    logger.info("%s: %s", "killed" if opts.command == "kill" else "hub actors", names or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
