"""Meeting churn: create, watch and delete many meetings; memory must come back down.

``python -m benchmarks load --churn 10000`` runs it on the load profile. Each meeting is
created over REST, watched by one room socket through the Serve proxy until ``connected``
arrives, and deleted. The resident memory of the MeetingHub, Processor and Ingress processes
is read before and after; a control plane that keeps per-meeting state forever grows with
every meeting ever watched.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import httpx
from websockets.asyncio.client import connect

from benchmarks.load_clients import Owner, create_owner
from benchmarks.platform import Platform

WATCHED_GROUPS = ("MeetingHub", "Processor", "Ingress")
MEETINGS_PER_OWNER = 500  # under the default per-user meeting cap
WARMUP = 200  # first meetings pay one-off costs (imports, pools, caches): not growth
SETTLE_S = 5.0  # let idle eviction and the allocator catch up before the last reading


def group_rss_mb(groups: tuple[str, ...] = WATCHED_GROUPS) -> dict[str, float]:
    """RSS (MB) summed per process group of this driver's local cluster."""
    from benchmarks.memory import process_memory, session_processes

    totals = dict.fromkeys(groups, 0.0)
    for pid, group in session_processes().items():
        if group in totals:
            totals[group] += process_memory(pid)[0]
    return {g: round(mb, 1) for g, mb in totals.items()}


async def churn_one(client: httpx.AsyncClient, ws_url: str, owner: Owner) -> None:
    headers = {"Authorization": f"Bearer {owner.token}"}
    r = await client.post("/api/meetings", json={"title": "churn"}, headers=headers)
    r.raise_for_status()
    meeting_id = r.json()["id"]
    url = f"{ws_url}/ws/meeting/{meeting_id}"
    async with connect(url, subprotocols=["bearer", owner.token]) as ws:  # type: ignore[list-item]
        await ws.recv()  # connected: the Ingress subscribed, the hub opened the room
    r = await client.delete(f"/api/meetings/{meeting_id}", headers=headers)
    r.raise_for_status()


async def run_churn(platform: Platform, count: int, concurrency: int = 8) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=120) as client:
        owners = [await create_owner(client, i) for i in range(-(-count // MEETINGS_PER_OWNER))]
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int) -> None:
            async with gate:
                owner = owners[(index // MEETINGS_PER_OWNER) % len(owners)]
                await churn_one(client, platform.ws_url, owner)

        await asyncio.gather(*(one(i) for i in range(min(WARMUP, count))))
        before = group_rss_mb()
        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(count)))
        wall = time.monotonic() - started
    gc.collect()
    await asyncio.sleep(SETTLE_S)
    after = group_rss_mb()
    return {
        "meetings": count,
        "wall_s": round(wall, 1),
        "meetings_per_s": round(count / wall, 1),
        "rss_before_mb": before,
        "rss_after_mb": after,
        "growth_pct": {
            g: round(100 * (after[g] - before[g]) / before[g], 1) if before[g] else None
            for g in before
        },
    }
