"""The load benchmark's scoring: latency from the event's own timestamp, loss per watcher."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from datetime import UTC, datetime

import pytest

from benchmarks.load import (
    Round,
    Scenario,
    arriving,
    holds_target,
    interleaved,
    messages_between,
    score,
    socket_memory,
)
from benchmarks.load_clients import Owner, Watcher, collector_paused

T0 = 1_700_000_000.0


def frame(seq: int, created: float) -> str:
    stamp = datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": "status", "seq": seq, "timestamp": stamp})


def watcher(meeting: str, arrivals: list[tuple[int, float, float]]) -> Watcher:
    w = Watcher(Owner(meeting, "t"))
    w.frames = [(T0 - 1, json.dumps({"type": "connected", "last_seq": 0}))]
    w.frames += [(T0 + arrived, frame(seq, T0 + created)) for seq, created, arrived in arrivals]
    return w


def test_latency_is_arrival_minus_creation_and_loss_counts_every_missing_seq() -> None:
    complete = watcher("m1", [(1, 0.0, 0.010), (2, 0.0, 0.030)])
    gappy = watcher("m1", [(1, 0.0, 0.020), (1, 0.0, 0.021)])  # seq 2 lost, seq 1 twice
    row = score(Scenario("s", 1, 2), [Round([complete, gappy], {"m1": 2}, T0, T0 + 2)])
    assert (row["delivered"], row["expected"], row["lost"], row["duplicated"]) == (4, 4, 1, 1)
    assert row["p50_ms"] == 21.0
    assert row["max_ms"] == 30.0
    assert row["messages_per_s"] == 2.0
    assert not holds_target(row)  # a loss fails the target whatever the latency


def test_target_needs_p99_at_most_100_ms_and_no_loss() -> None:
    fast = watcher("m1", [(1, 0.0, 0.050)])
    slow = watcher("m2", [(1, 0.0, 0.150)])
    assert holds_target(score(Scenario("s", 1, 1), [Round([fast], {"m1": 1}, T0, T0 + 1)]))
    assert not holds_target(score(Scenario("s", 1, 1), [Round([slow], {"m2": 1}, T0, T0 + 1)]))


def test_rounds_are_scored_together_and_each_keeps_its_own_p99() -> None:
    # two rounds of one meeting: ten quick messages, then ten of which one is slow
    quick = watcher("m1", [(seq, 0.0, 0.010) for seq in range(1, 11)])
    late = watcher("m2", [(seq, 0.0, 0.020) for seq in range(1, 10)] + [(10, 0.0, 0.500)])
    rounds = [Round([quick], {"m1": 10}, T0, T0 + 2), Round([late], {"m2": 10}, T0, T0 + 3)]
    row = score(Scenario("s", 1, 1, rounds=2), rounds)
    assert (row["delivered"], row["expected"], row["lost"]) == (20, 20, 0)
    assert row["round_p99_ms"] == [10.0, 500.0]
    assert row["p50_ms"] == 20.0  # the pooled messages' median, not a median of rounds
    assert (row["wall_s"], row["jobs_per_s"]) == (5.0, 0.4)


def test_a_batch_frame_counts_each_message_it_carries() -> None:
    w = Watcher(Owner("m1", "t"), batch=True)
    inner = [json.loads(frame(1, T0)), json.loads(frame(2, T0))]
    w.frames = [(T0 + 0.020, json.dumps({"type": "batch", "messages": inner}))]
    row = score(Scenario("s", 1, 1), [Round([w], {"m1": 2}, T0, T0 + 1)])
    assert (row["delivered"], row["lost"], row["frames"]) == (2, 0, 1)
    assert row["p50_ms"] == 20.0


def test_messages_in_the_profiled_window_count_each_one_that_arrived_in_it() -> None:
    early_and_late = watcher("m1", [(1, 0.0, 0.5), (2, 1.0, 1.5), (3, 2.0, 3.5)])
    assert messages_between([early_and_late], (T0 + 1.0, T0 + 3.0)) == 1


def test_the_timeline_groups_latency_by_when_the_event_was_created() -> None:
    burst = watcher("m1", [(1, 0.5, 2.5), (2, 1.0, 2.5), (3, 4.5, 4.52)])
    row = score(Scenario("s", 1, 1), [Round([burst], {"m1": 3}, T0, T0 + 5)])
    assert row["timeline"] == [
        {"from_s": 0.0, "messages": 2, "p50_ms": 2000.0, "p99_ms": 2000.0},
        {"from_s": 4.0, "messages": 1, "p50_ms": 20.0, "p99_ms": 20.0},
    ]


def test_arrivals_interleave_live_and_uploads_and_spread_over_the_window() -> None:
    assert interleaved(7, 3) == [0, 3, 6, 1, 4, 2, 5]
    started: list[tuple[float, str]] = []

    async def feed(name: str) -> str:
        started.append((time.monotonic(), name))
        return name

    async def run() -> list[str]:
        names = [f"live{i}" for i in range(2)] + [f"upload{i}" for i in range(18)]
        return await asyncio.gather(*arriving([feed(n) for n in names], 0.4))

    t0 = time.monotonic()
    done = asyncio.run(run())
    assert sorted(done) == sorted(f"live{i}" for i in range(2)) + sorted(
        f"upload{i}" for i in range(18)
    )
    order = [name for _t, name in sorted(started)]
    assert order[0] == "live0" and order[10] == "live1", "a live stream opens each half"
    assert started[-1][0] - t0 >= 0.3, "the last feed starts near the end of the window"


def test_the_clients_collector_is_off_while_a_round_runs_and_back_on_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled(), "a full collection would stall every receive loop"
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a round failed")
    assert gc.isenabled(), "a failed round must not leave the collector off"


def test_socket_memory_is_what_the_open_sockets_add_per_socket() -> None:
    memory = socket_memory({"ProxyActor": 300.0, "Ingress": 250.0},
                           {"ProxyActor": 350.0, "Ingress": 250.0}, 500)  # fmt: skip
    proxy = {"idle_mb": 300.0, "connected_mb": 350.0, "kib_per_socket": 102.4}
    assert memory["ProxyActor"] == proxy
    assert memory["Ingress"]["kib_per_socket"] == 0.0


def test_serve_switches_are_recorded_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.load import serve_switches

    monkeypatch.setenv("RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP", "0")
    monkeypatch.setenv("RAY_SERVE_FAKE_AUTH_TOKEN", "hidden")
    monkeypatch.setenv("MEETING_JWT_SECRET", "hidden")
    switches = serve_switches()
    assert switches["RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP"] == "0"
    assert "hidden" not in switches.values()
