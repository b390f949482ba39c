"""Control-plane load through the real Serve path: meetings x watchers, uploads and live streams.

    python -m benchmarks load                  # the recorded set (docs/benchmarks.md)
    python -m benchmarks load --quick          # a one-minute check of the same path
    python -m benchmarks load --url http://127.0.0.1:8000 --meetings 50 --watchers 4
    python -m benchmarks load --profile cpu --meetings 10 --watchers 10 --direct-ingress
                                               # real models: proxy vs direct ingress
    python -m benchmarks load --meetings 1 --watchers 200 --live 1 --haproxy
                                               # Serve's HAProxy ingress instead of its proxy

Without ``--url`` a private Ray cluster runs ``configs/serve_load.yaml``: the real Serve proxy,
Ingress, Processor, MeetingHub and database, with instant stand-in models, so the control
plane is what is measured. Every watcher is a real WebSocket through the proxy. Push latency
is event creation (the ``timestamp`` the Processor stamps) to arrival at the client; loss is
every durable seq of the meeting a watcher did not get exactly once.

Caveat, recorded with the results: the clients run on the same machine as the cluster, so on
2 cores they compete with it; figures are an upper bound on what the server alone adds.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import os
import sys
import time
from collections.abc import Awaitable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np

from benchmarks.churn import group_rss_mb, run_churn
from benchmarks.cpu_profile import Sampled, profile_while, report
from benchmarks.cpu_usage import mark, pooled, spent
from benchmarks.load_clients import (
    Owner,
    Watcher,
    collector_paused,
    create_owner,
    event_epoch,
    finished_jobs,
    read_pcm16,
    stream_live,
    upload,
)
from benchmarks.memory import session_processes
from benchmarks.platform import (
    Platform,
    direct_ingress,
    external_platform,
    profile_hub_shards,
    started_platform,
)
from benchmarks.postgres_server import PostgresServer, find_bindir
from benchmarks.report import deployed_settings, new_result, write_result
from deployments.proxy_tuning import router_loops
from deployments.run import ingress_env

logger = logging.getLogger(__name__)
T = TypeVar("T")
CONNECT_CONCURRENCY = 25
SETUP_CONCURRENCY = 8
JOB_TIMEOUT_S = 600
TARGET_P99_MS = 100.0
TIMELINE_BUCKET_S = 2.0
# The processes that hold a watcher's socket on the Serve proxy path.
SOCKET_HOLDERS = ("ProxyActor", "Ingress")
# The benchmark's own accounts: watchers of one meeting share its owner's token, and one
# process registers hundreds of users from one address.
BENCH_ENV = {"MEETING_WS_MAX_CONNECTIONS_PER_USER": "1000", "MEETING_LOGIN_RATE_LIMIT": "100000"}


@dataclass(frozen=True)
class Scenario:
    name: str
    meetings: int
    watchers: int  # per meeting
    live: int = 0  # meetings fed by a live stream instead of an upload
    batch: bool = True  # watchers opt in to batch frames (the web client does; old clients not)
    cpu_profile_s: float | None = None  # sample the processes this long once feeding starts
    # Feeds start one after another over this many seconds (0: all in the same instant, the
    # admission burst); meetings that end at different times upload at different times.
    arrival_s: float = 0.0
    # Runs on fresh meetings, scored together: a steadier tail than one short run's
    rounds: int = 1

    @property
    def sockets(self) -> int:
        return self.meetings * self.watchers


async def bounded(jobs: Iterable[Awaitable[T]], limit: int) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(j) for j in jobs)))


def percentile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


async def wait_until(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f}s")
        await asyncio.sleep(0.2)


async def last_seq(client: httpx.AsyncClient, owner: Owner) -> int:
    headers = {"Authorization": f"Bearer {owner.token}"}
    r = await client.get(
        f"/api/meetings/{owner.meeting_id}/events", params={"limit": 5000}, headers=headers
    )
    r.raise_for_status()
    return max((int(e["seq"]) for e in r.json()["events"]), default=0)


@dataclass(frozen=True)
class Feed:
    """What each meeting is fed: the file for uploads, its samples for live streams."""

    wav: bytes
    pcm: np.ndarray
    rate: int

    @classmethod
    def read(cls, path: Path) -> Feed:
        pcm, rate = read_pcm16(path)
        return cls(path.read_bytes(), pcm, rate)


@dataclass
class Round:
    """One run of a scenario on fresh meetings: what its watchers got, each meeting's last
    durable seq, and when feeding began and every job had finished (wall clock)."""

    watchers: list[Watcher]
    expected: dict[str, int]
    started: float
    finished: float
    socket_memory: dict[str, dict[str, float]] | None = None
    cpu: dict[str, Any] | None = None  # ``benchmarks/cpu_usage.py`` ``spent`` over the round


async def run_scenario(platform: Platform, scenario: Scenario, feed: Feed) -> dict[str, Any]:
    """``scenario.rounds`` runs of the scenario, scored together (the first one also profiled
    with ``cpu_profile_s``: ``benchmarks/cpu_profile.py``)."""
    rounds: list[Round] = []
    cpu_profile: dict[str, Any] | None = None
    for index in range(scenario.rounds):
        profile_s = scenario.cpu_profile_s if index == 0 else None
        with collector_paused():
            observed, sampled = await run_round(platform, scenario, feed, profile_s)
        rounds.append(observed)
        if sampled is not None and profile_s:
            window = (observed.started, observed.started + profile_s)
            cpu_profile = report(sampled, profile_s, messages_between(observed.watchers, window))
    row = score(scenario, rounds)
    if rounds[0].socket_memory is not None:
        # Round 1's: later rounds reuse the memory the previous round's sockets freed.
        row["socket_memory"] = rounds[0].socket_memory
    cpus = [one.cpu for one in rounds if one.cpu is not None]
    if len(cpus) == len(rounds):
        row["cpu"] = pooled(cpus, row["delivered"])
    if cpu_profile is not None:
        row["cpu_profile"] = cpu_profile
    return row


async def run_round(
    platform: Platform, scenario: Scenario, feed: Feed, cpu_profile_s: float | None
) -> tuple[Round, list[Sampled] | None]:
    """Fresh meetings: connect every watcher, feed every meeting, wait for every watcher to
    see its meeting's job finish; returns what they saw (and the CPU samples, if asked)."""
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=300, limits=limits) as client:
        owners = await bounded(
            (create_owner(client, i) for i in range(scenario.meetings)), SETUP_CONCURRENCY
        )
        watchers = [Watcher(o, scenario.batch) for o in owners for _ in range(scenario.watchers)]
        idle_rss = group_rss_mb(SOCKET_HOLDERS) if platform.controllable else None
        stop, gate = asyncio.Event(), asyncio.Semaphore(CONNECT_CONCURRENCY)
        urls = platform.watcher_ws_urls
        tasks = [
            asyncio.create_task(w.run(urls[i % len(urls)], gate, stop))
            for i, w in enumerate(watchers)
        ]
        await wait_until(lambda: all(w.frames or w.error for w in watchers), 300, "connecting")
        memory = None
        if idle_rss is not None:
            memory = socket_memory(idle_rss, group_rss_mb(SOCKET_HOLDERS), len(watchers))
        cpu_before = mark(session_processes()) if platform.controllable else None
        started = time.time()
        profiling = asyncio.create_task(profile_while(cpu_profile_s)) if cpu_profile_s else None
        live = owners[: scenario.live]
        feeds = [stream_live(platform.ws_url, o, feed.pcm, feed.rate) for o in live]
        feeds += [upload(client, o, feed.wav) for o in owners[scenario.live :]]
        await bounded(arriving(feeds, scenario.arrival_s), 200)
        try:
            await wait_until(
                lambda: not any(map(waiting, watchers)), JOB_TIMEOUT_S, "every job finishing"
            )
        except TimeoutError as e:  # score anyway: what a watcher never got is counted as lost
            stalled = [w for w in watchers if waiting(w)]
            logger.warning("%s: %s; %d watchers waiting, e.g. %s", scenario.name, e,
                           len(stalled), [describe(w) for w in stalled[:3]])  # fmt: skip
        finished = time.time()
        cpu = spent(cpu_before, mark(session_processes())) if cpu_before is not None else None
        stop.set()
        await asyncio.gather(*tasks)
        expected = {o.meeting_id: await last_seq(client, o) for o in owners}
    sampled = await profiling if profiling is not None else None
    return Round(watchers, expected, started, finished, memory, cpu), sampled


def socket_memory(
    idle_mb: dict[str, float], connected_mb: dict[str, float], sockets: int
) -> dict[str, dict[str, float]]:
    """Resident memory of each socket-holding process before the watchers connect and once
    all have, and what one open socket adds (KiB)."""
    return {
        group: {
            "idle_mb": idle_mb[group],
            "connected_mb": connected_mb[group],
            "kib_per_socket": round(1024 * (connected_mb[group] - idle_mb[group]) / sockets, 1),
        }
        for group in idle_mb
    }


def arriving(feeds: list[Awaitable[T]], over_s: float) -> list[Awaitable[T]]:
    """The feeds, the n-th starting n * over_s / len(feeds) seconds after the first (the live
    streams and uploads interleaved, so both kinds arrive all along)."""
    order = [feeds[i] for i in interleaved(len(feeds), min(len(feeds), max(1, len(feeds) // 10)))]
    step = over_s / len(feeds) if feeds else 0.0
    return [_after(n * step, feed) for n, feed in enumerate(order)]


def interleaved(n: int, stride: int) -> list[int]:
    """0..n-1 taken every ``stride``-th: [0, s, 2s, ..., 1, s+1, ...]."""
    return [i for start in range(stride) for i in range(start, n, stride)]


async def _after(delay_s: float, feed: Awaitable[T]) -> T:
    if delay_s > 0:
        await asyncio.sleep(delay_s)
    return await feed


def messages_between(watchers: list[Watcher], window: tuple[float, float]) -> int:
    """Socket-messages (a batch frame's events counted one by one) that arrived in ``window``."""
    return sum(
        1 for w in watchers for arrived, _m in w.messages() if window[0] <= arrived < window[1]
    )


def score(scenario: Scenario, rounds: list[Round]) -> dict[str, Any]:
    """Latency and loss over every round's messages together (a p99 of one short round rests
    on its ten slowest messages); ``round_p99_ms`` keeps each round's own."""
    latencies_ms: list[float] = []
    created_s: list[float] = []  # each latency's event creation, seconds after feeding began
    round_p99_ms: list[float | None] = []
    lost = duplicated = expected = 0
    for one in rounds:
        first = len(latencies_ms)
        for watcher in one.watchers:
            seqs: list[int] = []
            for arrived, message in watcher.messages():
                if "seq" in message:
                    seqs.append(int(message["seq"]))
                    created = event_epoch(message["timestamp"])
                    latencies_ms.append(1000 * (arrived - created))
                    created_s.append(created - one.started)
            want = one.expected[watcher.owner.meeting_id]
            expected += want
            lost += len(set(range(1, want + 1)) - set(seqs))
            duplicated += len(seqs) - len(set(seqs))
        round_p99_ms.append(_round(percentile(latencies_ms[first:], 0.99)))
    watchers = [w for one in rounds for w in one.watchers]
    delivered = len(latencies_ms)
    wall = max(sum(one.finished - one.started for one in rounds), 1e-9)
    row = {
        **asdict(scenario),
        "sockets": scenario.sockets,
        "delivered": delivered,
        "expected": expected,
        "lost": lost,
        "duplicated": duplicated,
        "socket_errors": sum(1 for w in watchers if w.error),
        # open sockets that never saw their job end (the wait timed out): their missing
        # seqs are in ``lost``
        "unfinished": sum(1 for w in watchers if waiting(w)),
        "frames": sum(len(w.frames) for w in watchers),
        "p50_ms": _round(percentile(latencies_ms, 0.50)),
        "p95_ms": _round(percentile(latencies_ms, 0.95)),
        "p99_ms": _round(percentile(latencies_ms, 0.99)),
        "max_ms": _round(max(latencies_ms, default=None)),
        "messages_per_s": round(delivered / wall, 1),
        "jobs_per_s": round(scenario.meetings * len(rounds) / wall, 2),
        "wall_s": round(wall, 1),
        "timeline": timeline(created_s, latencies_ms),
    }
    if len(rounds) > 1:
        row["round_p99_ms"] = round_p99_ms
    return row


def timeline(
    created_s: list[float], latencies_ms: list[float], bucket_s: float = TIMELINE_BUCKET_S
) -> list[dict[str, float | int | None]]:
    """Latency by when the event was created (buckets of ``bucket_s`` after feeding began):
    shows whether a tail comes from the start of the run, when every meeting is fed at
    once, or from the whole of it."""
    buckets: dict[int, list[float]] = {}
    for created, latency in zip(created_s, latencies_ms, strict=True):
        buckets.setdefault(int(created // bucket_s), []).append(latency)
    return [
        {
            "from_s": index * bucket_s,
            "messages": len(values),
            "p50_ms": _round(percentile(values, 0.50)),
            "p99_ms": _round(percentile(values, 0.99)),
        }
        for index, values in sorted(buckets.items())
    ]


def waiting(watcher: Watcher) -> bool:
    """An open socket that has not yet seen its meeting's job end."""
    return not watcher.error and finished_jobs(watcher) == 0


def describe(watcher: Watcher) -> str:
    """A watcher's meeting, the seqs it got and its last messages, for a stalled-run log."""
    got = [m for _, m in watcher.messages()]
    seqs = [int(m["seq"]) for m in got if "seq" in m]
    tail = [m.get("status") or m.get("type") for m in got[-3:]]
    return f"{watcher.owner.meeting_id}: {len(seqs)} seqs up to {max(seqs, default=0)}, last {tail}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def holds_target(row: dict[str, Any]) -> bool:
    return row["lost"] == 0 and row["p99_ms"] is not None and row["p99_ms"] <= TARGET_P99_MS


@dataclass(frozen=True)
class Plan:
    headline: list[Scenario]
    sweep: list[Scenario]
    replicas: list[int]  # Ingress replica counts for the replica comparison (headline[0])


def build_plan(opts: argparse.Namespace) -> Plan:
    if opts.quick:
        return Plan([Scenario("spread", 10, 3, live=2)], [], [])
    if opts.meetings:
        custom = Scenario(
            "custom",
            opts.meetings,
            opts.watchers,
            opts.live,
            not opts.no_batch,
            opts.cpu_profile,
            opts.arrival_s,
            opts.rounds,
        )
        return Plan([custom], [], [])
    return Plan(
        headline=[
            Scenario("spread", 100, 5, live=10),
            Scenario("spread_unbatched", 100, 5, live=10, batch=False),
            Scenario("one_room", 1, 200),
            Scenario("one_room_unbatched", 1, 200, batch=False),
        ],
        # 100 meetings x 5 is the headline's "spread" row; the sweep adds the sizes around it.
        sweep=[Scenario(f"sweep_{m}", m, 5) for m in (10, 25, 50, 150)],
        replicas=[2],  # 1 Ingress replica is the headline itself
    )


def set_ingress_replicas(platform: Platform, replicas: int) -> None:
    config = copy.deepcopy(platform.app_config or {})
    for deployment in config.get("deployments", []):
        if deployment["name"] == "Ingress":
            deployment["num_replicas"] = replicas
    platform.redeploy(config)


async def run_both_paths(
    proxy: Platform, direct: Platform, plan: Plan, feed: Feed
) -> dict[str, Any]:
    """Every scenario through the Serve proxy, then straight to the Ingress replica's port, on
    one cluster: the proxy hop's cost, measured side by side (no replica comparison: clients
    reach one replica's port)."""
    out: dict[str, Any] = {"headline": [], "sweep": [], "replicas": []}
    for scenario in plan.headline + plan.sweep:
        for path, platform in (("proxy", proxy), ("direct", direct)):
            named = replace(scenario, name=f"{scenario.name} ({path})")
            out["headline"].append(await logged(platform, named, feed))
    return out


async def run_plan(platform: Platform, plan: Plan, feed: Feed) -> dict[str, Any]:
    out: dict[str, Any] = {"headline": [], "sweep": [], "replicas": []}
    for scenario in plan.headline:
        out["headline"].append(await logged(platform, scenario, feed))
    for scenario in plan.sweep:
        out["sweep"].append(await logged(platform, scenario, feed))
    sized = [r for r in out["headline"] + out["sweep"] if r["watchers"] == 5 and r["batch"]]
    held = [r["meetings"] for r in sized if holds_target(r)]
    out["largest_meetings_at_target"] = max(held, default=None)
    for replicas in plan.replicas if platform.controllable else []:
        set_ingress_replicas(platform, replicas)
        row = await logged(platform, plan.headline[0], feed)
        out["replicas"].append({"ingress_replicas": replicas, **row})
    return out


async def logged(platform: Platform, scenario: Scenario, feed: Feed) -> dict[str, Any]:
    row = await run_scenario(platform, scenario, feed)
    logger.info(
        "%s: %d sockets, p50 %s ms, p99 %s ms, lost %d, %s msg/s",
        scenario.name, row["sockets"], row["p50_ms"], row["p99_ms"], row["lost"],
        row["messages_per_s"],
    )  # fmt: skip
    for group, memory in (row.get("socket_memory") or {}).items():
        logger.info("%s: %s %.1f -> %.1f MB with the sockets open, %.1f KiB per socket",
                    scenario.name, group, memory["idle_mb"], memory["connected_mb"],
                    memory["kib_per_socket"])  # fmt: skip
    if cpu := row.get("cpu"):
        logger.info("%s: cluster %.1f CPU s, %.3f ms per message; machine busy %s, steal %s "
                    "per round", scenario.name, cpu["cluster_seconds"],
                    cpu["cluster_ms_per_message"], cpu["round_busy_share"],
                    cpu["round_steal_share"])  # fmt: skip
    return row


def running_hub_actors() -> list[str]:
    from deployments.hub_shards import hub_actor_names

    return hub_actor_names()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks load", description=__doc__)
    p.add_argument("--url", help="load a running platform instead of starting the load profile")
    p.add_argument(
        "--profile",
        default="load",
        help="the Serve profile started (or, with --url, running): load (instant models, the "
        "default) or cpu (real models, for a few meetings)",
    )
    p.add_argument("--quick", action="store_true", help="10 meetings x 3 watchers, 2 live")
    p.add_argument("--meetings", type=int, help="one custom scenario: meetings")
    p.add_argument("--watchers", type=int, default=5, help="watchers per meeting (custom)")
    p.add_argument("--live", type=int, default=0, help="live-streamed meetings (custom)")
    p.add_argument("--no-batch", action="store_true", help="watchers do not opt in to batches")
    p.add_argument(
        "--arrival-s",
        type=float,
        default=0.0,
        metavar="S",
        help="with --meetings: start the feeds one after another over S seconds instead of "
        "all at once",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        metavar="N",
        help="with --meetings: run the scenario N times on fresh meetings and score every "
        "round's messages together (each round's p99 is kept too)",
    )
    p.add_argument("--meeting", default="planning2", help="corpus meeting each feed sends")
    p.add_argument("--churn", type=int, help="instead: create, watch and delete N meetings")
    p.add_argument("--hub-shards", type=int, help="MEETING_HUB_SHARDS (default: the profile's)")
    p.add_argument(
        "--cpu-profile",
        type=float,
        metavar="S",
        help="with --meetings: sample the cluster's processes with py-spy for S seconds",
    )
    p.add_argument(
        "--direct-ingress",
        action="store_true",
        help="run each scenario through the Serve proxy, then straight to the Ingress "
        "replica's own port (Serve's direct ingress), on one cluster",
    )
    p.add_argument(
        "--haproxy",
        action="store_true",
        help="the cluster starts with Serve's HAProxy ingress: the proxy port is HAProxy, "
        "relaying to the Ingress replicas' own ports",
    )
    p.add_argument(
        "--ingress-replicas",
        type=int,
        metavar="N",
        help="with --meetings: run N Ingress replicas (with --direct-ingress, watchers are "
        "spread over their ports round-robin, as a load balancer would)",
    )
    p.add_argument(
        "--postgres",
        action="store_true",
        help="the cluster's database is a throwaway PostgreSQL server with its durable "
        "defaults (needs its binaries: bash scripts/ensure_postgres.sh) instead of SQLite",
    )
    p.add_argument("--out", type=Path, help="results directory")
    return p


def ingress_path(direct_ingress: bool, haproxy: bool) -> str:
    front = "Serve's HAProxy ingress" if haproxy else "Serve proxy"
    return f"{front}, then direct ingress" if direct_ingress else front


def serve_switches() -> dict[str, str]:
    """Ray Serve's environment switches this run's cluster started with (what a pair of runs
    alternated, when it tried one of them); nothing that could hold a secret."""
    secret = ("SECRET", "TOKEN", "PASSWORD", "KEY")
    return {
        name: value
        for name, value in sorted(os.environ.items())
        if name.startswith("RAY_SERVE_") and not any(word in name for word in secret)
    }


@contextmanager
def database_env(postgres: bool) -> Iterator[dict[str, str]]:
    """``MEETING_DATABASE_URL`` of a throwaway, migrated PostgreSQL database (stopped on exit);
    nothing (the data directory's SQLite file) without ``postgres``."""
    if not postgres:
        yield {}
        return
    server = PostgresServer(find_bindir(), durable=True)
    server.start()
    try:
        yield {"MEETING_DATABASE_URL": server.url(server.create_database(prefix="load"))}
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    from scripts.synth_meeting import ensure_meeting

    opts = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the rest
    if opts.churn and opts.url:
        parser().error("--churn reads process memory, so it needs the cluster it starts itself")
    if opts.cpu_profile and (opts.url or not opts.meetings):
        parser().error("--cpu-profile needs --meetings and the cluster this benchmark starts")
    if opts.hub_shards and opts.url:
        parser().error("--hub-shards sets up the cluster it starts; a running one keeps its own")
    if opts.direct_ingress and (opts.url or opts.churn):
        parser().error("--direct-ingress compares paths on the cluster it starts (not churn)")
    if opts.haproxy and opts.url:
        parser().error("--haproxy sets up the cluster it starts; a running one keeps its own")
    if opts.postgres and opts.url:
        parser().error("--postgres sets up the cluster it starts; a running one keeps its own")
    if opts.rounds < 1 or (opts.rounds > 1 and not opts.meetings):
        parser().error("--rounds needs --meetings and a count of at least 1")
    if opts.ingress_replicas and (opts.url or not opts.meetings):
        parser().error("--ingress-replicas needs --meetings and the cluster this benchmark starts")
    os.environ.update(ingress_env(opts.direct_ingress, opts.haproxy))  # before Ray starts
    env = {**BENCH_ENV, **({"MEETING_HUB_SHARDS": str(opts.hub_shards)} if opts.hub_shards else {})}
    plan = build_plan(opts)
    feed = Feed.read(ensure_meeting(opts.meeting, install=True).audio_path)
    started = time.monotonic()
    app: dict[str, Any] | None = None  # what this benchmark deployed (None: a running platform)
    if opts.url:
        measured = asyncio.run(run_plan(external_platform(opts.url, opts.profile), plan, feed))
    else:
        with (
            database_env(opts.postgres) as database,
            started_platform(opts.profile, extra_env={**env, **database}) as platform,
        ):
            if opts.ingress_replicas:
                set_ingress_replicas(platform, opts.ingress_replicas)
            app = platform.app_config
            if opts.churn:
                work = run_churn(platform, opts.churn)
            elif opts.direct_ingress:
                work = run_both_paths(platform, direct_ingress(platform), plan, feed)
            else:
                work = run_plan(platform, plan, feed)
            measured = asyncio.run(work)
            measured["hub_actors"] = running_hub_actors()  # what the cluster really ran
    settings = {"plan": asdict(plan), "audio": opts.meeting, "url": opts.url, "env": env}
    settings["path"] = ingress_path(opts.direct_ingress, opts.haproxy)
    settings["serve_switches"] = serve_switches()
    settings["router_loops"] = router_loops()
    settings["hub_shards"] = opts.hub_shards or profile_hub_shards(opts.profile)
    settings["database"] = "PostgreSQL (durable defaults)" if opts.postgres else "SQLite"
    settings["command"] = " ".join(["python -m benchmarks load", *sys.argv[2:]])
    settings.update(deployed_settings(app))
    suite = "load-churn" if opts.churn else "load-quick" if opts.quick else "load"
    if opts.meetings:  # one custom scenario: never overwrite the full plan's load.json
        suite = f"load-{opts.meetings}x{opts.watchers}"
    if opts.cpu_profile:
        suite = f"load-cpu-profile-{opts.meetings}x{opts.watchers}"
    if opts.arrival_s:
        suite += f"-arrivals-{opts.arrival_s:g}s"
    if opts.ingress_replicas:
        suite += f"-{opts.ingress_replicas}-ingress"
    if opts.rounds > 1:
        suite += f"-{opts.rounds}-rounds"
    if opts.haproxy:
        suite += "-haproxy"
    if opts.direct_ingress:
        suite += "-direct-ingress"
    if opts.profile != "load":
        suite += f"-on-{opts.profile}"
    if opts.postgres:
        suite += "-postgres"
    result = new_result(suite, opts.profile, settings)
    result["churn" if opts.churn else "load"] = measured
    result["wall_s"] = round(time.monotonic() - started, 1)
    result["note"] = (
        f"Clients and cluster share this {os.cpu_count()}-core machine; push latency is event "
        f"creation in the Processor to arrival at the client, through the {settings['path']}."
    )
    print(f"load: wrote {write_result(result, opts.out)}")
    return 0
