"""The hub alone: publish and long-poll delivery through K hub shards, K = 1 vs 2 (or more).

    python -m benchmarks hubs                          # K = 1 and 2, recorded set
    python -m benchmarks hubs --shards 1 2 4 --events 4000 --concurrency 64

A private local Ray cluster runs the real hub actors (``meetinghub-<i>``) on a SQLite database
in a temporary directory. One publisher (the Processor's role: ``ShardedHub.publish``, durable
before ack) sends ``--events`` status events round-robin over ``--meetings`` meetings with
``--concurrency`` publishes in flight; ``--pollers`` long-poll loops (each Ingress replica's
role) watch every meeting. Reported per K: publishes/s, publish ack latency, and delivery
latency (publish call to arrival in a poller) p50/p99, and that every poller got every event.

Caveat, recorded with the results: the publisher, the pollers and the hub actors share this
machine's cores, and SQLite takes one writer at a time whatever K is.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.report import new_result, write_result

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubPlan:
    shards: list[int]
    meetings: int
    events: int
    concurrency: int
    pollers: int


def percentile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else None


def make_meetings(database_url: str, count: int) -> list[str]:
    from persistence import Database, create_meeting, create_user, upgrade_database

    upgrade_database(database_url)
    db = Database(database_url)
    try:
        with db.session() as session:
            user = create_user(session, email="hubs@example.com", name="h", password_hash="-")  # noqa: S106
            return [create_meeting(session, owner_id=user.id, title="t").id for _ in range(count)]
    finally:
        db.dispose()


class Poller:
    """One long-poll loop over every meeting, as an Ingress replica's fan-out runs it."""

    def __init__(
        self, hub: Any, cursors: dict[str, int], sent: dict[tuple[str, int], float]
    ) -> None:
        self.hub = hub
        self.cursors = dict(cursors)
        self.sent = sent
        self.latencies_ms: list[float] = []
        self.seen: dict[str, list[int]] = {m: [] for m in cursors}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            ready = await self.hub.listen(dict(self.cursors), 1.0)
            now = time.perf_counter()
            for meeting_id, events in ready.items():
                for event in events:
                    seq = int(event["seq"])
                    self.seen[meeting_id].append(seq)
                    self.cursors[meeting_id] = max(self.cursors[meeting_id], seq)
                    started = self.sent.get((meeting_id, int(event["n"])))
                    if started is not None:
                        self.latencies_ms.append(1000 * (now - started))


async def measure(database_url: str, shards: int, meetings: list[str], plan: HubPlan) -> dict:
    from deployments.hub_shards import connect_hub, kill_hub_actors

    kill_hub_actors()  # a fresh layout: the previous K's actors would refuse this one
    publisher = connect_hub(database_url, shards)
    # Start the actors and load every room before timing; earlier runs' events stay behind.
    base = {m: await publisher.last_seq(m) for m in meetings}
    sent: dict[tuple[str, int], float] = {}
    pollers = [Poller(connect_hub(database_url, shards), base, sent) for _ in range(plan.pollers)]
    stop = asyncio.Event()
    loops = [asyncio.create_task(p.run(stop)) for p in pollers]
    gate = asyncio.Semaphore(plan.concurrency)
    acks_ms: list[float] = []

    async def publish(n: int) -> None:
        meeting_id = meetings[n % len(meetings)]
        async with gate:
            started = time.perf_counter()
            sent[(meeting_id, n)] = started
            await publisher.publish(meeting_id, {"type": "status", "status": "processing", "n": n})
            acks_ms.append(1000 * (time.perf_counter() - started))

    await asyncio.sleep(0.5)  # pollers parked in the hub before the first publish
    began = time.perf_counter()
    await asyncio.gather(*(publish(n) for n in range(plan.events)))
    wall = time.perf_counter() - began
    counts = {m: sum(1 for n in range(plan.events) if meetings[n % len(meetings)] == m)
              for m in meetings}  # fmt: skip
    for _ in range(1200):  # up to 60 s for the pollers to get everything
        if all(len(p.seen[m]) >= counts[m] for p in pollers for m in meetings):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*loops)
    delivered = [lat for p in pollers for lat in p.latencies_ms]
    exact = all(
        p.seen[m] == list(range(base[m] + 1, base[m] + counts[m] + 1))
        for p in pollers
        for m in meetings
    )
    return {
        "shards": shards,
        "publishes_per_s": round(plan.events / wall, 1),
        "ack_p50_ms": percentile(acks_ms, 0.5),
        "ack_p99_ms": percentile(acks_ms, 0.99),
        "delivery_p50_ms": percentile(delivered, 0.5),
        "delivery_p99_ms": percentile(delivered, 0.99),
        "delivered": len(delivered),
        "every_event_once_in_order": exact,
        "wall_s": round(wall, 2),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks hubs", description=__doc__)
    p.add_argument("--shards", type=int, nargs="+", default=[1, 2, 1, 2])
    p.add_argument("--meetings", type=int, default=40)
    p.add_argument("--events", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=64, help="publishes in flight")
    p.add_argument("--pollers", type=int, default=2, help="long-poll loops (Ingress replicas)")
    p.add_argument("--out", type=Path, help="results directory")
    return p


def main(argv: list[str] | None = None) -> int:
    import ray

    opts = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    plan = HubPlan(opts.shards, opts.meetings, opts.events, opts.concurrency, opts.pollers)
    data = Path(tempfile.mkdtemp(prefix="meeting-hubs-"))
    database_url = f"sqlite:///{data / 'meetings.db'}"
    env = {"MEETING_DATA_DIR": str(data), "MEETING_ENVIRONMENT": "test"}
    os.environ.update(env)
    ray.init(
        num_cpus=4, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env}
    )
    try:
        meetings = make_meetings(database_url, plan.meetings)
        rows = []
        for shards in plan.shards:
            row = asyncio.run(measure(database_url, shards, meetings, plan))
            logger.info("%s", row)
            rows.append(row)
    finally:
        ray.shutdown()
        shutil.rmtree(data, ignore_errors=True)
    result = new_result("hub-shards", "load", {"plan": asdict(plan), "database": "sqlite"})
    result["hub_shards"] = rows
    result["note"] = (
        f"Publisher, pollers and hub actors share this {os.cpu_count()}-core machine; SQLite "
        "takes one writer at a time whatever the shard count."
    )
    print(f"hubs: wrote {write_result(result, opts.out)}")
    return 0
