"""Room fan-out: publish-to-receive latency and throughput over WebSockets vs 2-second polling.

``python -m benchmarks.fanout --clients 200 --meetings 50``

The server is the real app (``create_app``: the WebSocket endpoint, the per-process fan-out
loop and the in-process ``EventLog`` hub on SQLite) under uvicorn in a child process; the
publisher runs inside that process and stamps each event with the wall-clock time just before
``publish`` (so the durable write counts). The clients run in this process, spread evenly over
the meetings. The baseline is the seed's pattern: every client polls
``GET /api/meetings/{id}/events?after_seq=N`` every 2 s, measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import random
import secrets
import socket
import tempfile
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from benchmarks.report import RESULTS_DIR, new_result

logger = logging.getLogger(__name__)
POLL_INTERVAL_S = 2.0
# Concurrent handshakes while the clients connect: the benchmark measures fan-out, not a
# connection storm (each handshake checks the token and the meeting in the database).
CONNECT_CONCURRENCY = 20
# Concurrent poll requests. The REST layer holds a pooled connection across several worker
# thread hops per request, so ~60+ concurrent requests starve the pool (5 + 10 overflow) into
# 30 s timeouts; a poll takes milliseconds, so queueing polls client-side costs the baseline
# almost nothing while keeping it measurable.
POLL_CONCURRENCY = 10
TARGET_P99_MS = 50.0
MODE = (
    "in-process uvicorn (create_app + LocalBackend EventLog on SQLite) in a child process; "
    "clients and the 2 s REST polling baseline in the parent; not the Ray Serve cluster"
)


@dataclass(frozen=True)
class Plan:
    clients: int
    meetings: int
    rate: float  # events per second, over all meetings
    duration_s: float


@dataclass
class Samples:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    first_publish: float = 0.0
    last_receive: float = 0.0

    def record(self, sent_at: float) -> None:
        now = time.time()
        self.latencies_s.append(now - sent_at)
        self.last_receive = max(self.last_receive, now)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summarize(samples: Samples, expected: int, published: dict[str, Any]) -> dict[str, Any]:
    window = max(samples.last_receive - published["first_at"], 1e-9)
    ms = [1000 * v for v in samples.latencies_s]
    return {
        "delivered": len(ms),
        "errors": samples.errors,
        "expected": expected,
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p90_ms": round(percentile(ms, 0.90), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(max(ms), 2) if ms else None,
        "messages_per_s": round(len(ms) / window, 1),
        "published": published["count"],
        "publish_rate_per_s": round(published["count"] / published["elapsed_s"], 1),
    }


# ---- the server process -------------------------------------------------------------------


def make_fixtures(database_url: str, meetings: int, jwt_secret: str) -> list[tuple[str, str]]:
    """One user per meeting (the per-user socket cap stays out of the way): (meeting, token)."""
    from app.security import create_access_token
    from persistence import Database, create_meeting, create_user, upgrade_database
    from settings.config import Settings

    upgrade_database(database_url)
    settings = Settings(environment="test", jwt_secret=jwt_secret)
    db = Database(database_url)
    pairs = []
    with db.session() as session:
        for i in range(meetings):
            user = create_user(session, email=f"u{i}@bench.test", name="u", password_hash="-")  # noqa: S106 (never logs in)
            meeting = create_meeting(session, owner_id=user.id, title=f"m{i}")
            pairs.append((meeting.id, create_access_token(user.id, settings)))
    db.dispose()
    return pairs


def server_process(data_dir: str, jwt_secret: str, conn: Connection) -> None:
    asyncio.run(_serve(Path(data_dir), jwt_secret, conn))


async def _serve(data_dir: Path, jwt_secret: str, conn: Connection) -> None:
    import uvicorn

    from app.main import create_app
    from settings.config import Settings

    settings = Settings(
        environment="test", data_dir=data_dir, jwt_secret=jwt_secret, login_rate_limit=10**6
    )
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, backlog=4096)
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.05)
    conn.send(sock.getsockname()[1])
    while True:
        command, args = await asyncio.to_thread(conn.recv)
        if command == "stop":
            server.should_exit = True
            await serving
            return
        conn.send(await publish_schedule(app.state.hub, *args))


async def publish_schedule(
    hub: Any, meetings: list[str], rate: float, duration_s: float
) -> dict[str, Any]:
    """Publish ``rate`` events/s round-robin over ``meetings``, each stamped with ``sent_at``."""
    total = int(rate * duration_s)
    start = time.monotonic()
    first_at = time.time()
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        event = {
            "type": "status",
            "status": "processing",
            "details": {"message": "benchmark", "stage": "transcription"},
            "sent_at": time.time(),
        }
        await hub.publish(meetings[i % len(meetings)], event)
    return {"count": total, "first_at": first_at, "elapsed_s": time.monotonic() - start}


# ---- the clients ----------------------------------------------------------------------------


async def websocket_client(
    url: str, samples: Samples, gate: asyncio.Semaphore, done: asyncio.Event, count: list[int]
) -> None:
    async with gate:
        ws = await connect(url, max_size=None, open_timeout=60)
        json.loads(await ws.recv())  # ``connected``
    async with ws:
        count[0] += 1
        while not done.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            message = json.loads(raw)
            if "sent_at" in message:
                samples.record(message["sent_at"])


async def polling_client(
    http: httpx.AsyncClient, meeting: str, token: str, samples: Samples, done: asyncio.Event
) -> None:
    """The seed's client: ask for new events every 2 s (random phase, like real clients)."""
    after = 0
    await asyncio.sleep(random.uniform(0, POLL_INTERVAL_S))
    while not done.is_set():
        r = await http.get(
            f"/api/meetings/{meeting}/events",
            params={"after_seq": after},
            headers={"Authorization": f"Bearer {token}"},
        )
        if r.status_code != 200:  # counted, not fatal: the baseline's own failures are data
            samples.errors += 1
            await asyncio.sleep(POLL_INTERVAL_S)
            continue
        for event in r.json()["events"]:
            samples.record(event["sent_at"])
            after = event["seq"]
        await asyncio.sleep(POLL_INTERVAL_S)


def assignments(pairs: list[tuple[str, str]], clients: int) -> list[tuple[str, str]]:
    return [pairs[i % len(pairs)] for i in range(clients)]


async def run_websockets(
    conn: Connection, port: int, pairs: list[tuple[str, str]], plan: Plan
) -> dict[str, Any]:
    samples, done, count = Samples(), asyncio.Event(), [0]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    tasks = [
        asyncio.create_task(
            websocket_client(
                f"ws://127.0.0.1:{port}/ws/meeting/{m}?token={t}", samples, gate, done, count
            )
        )
        for m, t in assignments(pairs, plan.clients)
    ]
    while count[0] < plan.clients:
        await asyncio.sleep(0.05)
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise RuntimeError(f"client failed: {failed[0].exception()!r}")
    published = await publish_and_wait(conn, pairs, plan, grace_s=1.0)
    done.set()
    await asyncio.gather(*tasks)
    return summarize(samples, published["count"] * plan.clients // plan.meetings, published)


async def run_polling(
    conn: Connection, port: int, pairs: list[tuple[str, str]], plan: Plan
) -> dict[str, Any]:
    samples, done = Samples(), asyncio.Event()
    limits = httpx.Limits(max_connections=POLL_CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as http:
        tasks = [
            asyncio.create_task(polling_client(http, m, t, samples, done))
            for m, t in assignments(pairs, plan.clients)
        ]
        await asyncio.sleep(POLL_INTERVAL_S)  # every poller has started its cycle
        published = await publish_and_wait(conn, pairs, plan, grace_s=POLL_INTERVAL_S + 1)
        done.set()
        await asyncio.gather(*tasks)
    return summarize(samples, published["count"] * plan.clients // plan.meetings, published)


async def publish_and_wait(
    conn: Connection, pairs: list[tuple[str, str]], plan: Plan, grace_s: float
) -> dict[str, Any]:
    meetings = [m for m, _ in pairs]
    conn.send(("publish", (meetings, plan.rate, plan.duration_s)))
    published: dict[str, Any] = await asyncio.to_thread(conn.recv)
    await asyncio.sleep(grace_s)
    return published


# ---- the command ----------------------------------------------------------------------------


def run(plan: Plan) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fanout-bench-") as data_dir:
        jwt_secret = secrets.token_hex(32)
        database_url = f"sqlite:///{Path(data_dir) / 'meetings.db'}"
        # Separate meetings per phase, so the pollers never see the WebSocket phase's events.
        pairs = make_fixtures(database_url, 2 * plan.meetings, jwt_secret)
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=server_process, args=(data_dir, jwt_secret, child), daemon=True
        )
        process.start()
        try:
            port = int(parent.recv())
            ws = asyncio.run(run_websockets(parent, port, pairs[: plan.meetings], plan))
            polling = asyncio.run(run_polling(parent, port, pairs[plan.meetings :], plan))
        finally:
            parent.send(("stop", ()))
            process.join(timeout=30)
    return {"websocket": ws, "polling_baseline": polling}


def report(plan: Plan, measured: dict[str, Any]) -> dict[str, Any]:
    ws, polling = measured["websocket"], measured["polling_baseline"]
    result = new_result(
        "fanout",
        "cpu",
        asdict(plan) | {"poll_interval_s": POLL_INTERVAL_S, "poll_concurrency": POLL_CONCURRENCY},
    )
    result |= {"mode": MODE, **measured}
    result["ratio"] = {
        "p50_latency_polling_over_ws": round(polling["p50_ms"] / ws["p50_ms"], 1),
        "p99_latency_polling_over_ws": round(polling["p99_ms"] / ws["p99_ms"], 1),
    }
    result["target"] = {"p99_ms": TARGET_P99_MS, "met": ws["p99_ms"] < TARGET_P99_MS}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--meetings", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0, help="events/s over all meetings")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of publishing")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default: results)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll otherwise
    plan = Plan(args.clients, args.meetings, args.rate, args.duration)
    result = report(plan, run(plan))
    out = args.out or RESULTS_DIR / result["hardware"]["id"] / "fanout.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {k: result[k] for k in ("mode", "websocket", "polling_baseline", "ratio", "target")},
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
