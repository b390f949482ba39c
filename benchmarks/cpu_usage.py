"""CPU seconds the cluster spent on a load round, and how much of the machine the host took.

Sittings on a shared VM differ in speed, and a load figure alone cannot tell a slower
change from a slower machine. Two readings can: the CPU seconds the same work cost (the
same load on slower or contended cores costs more of them) and the machine's steal share
(time the hypervisor ran someone else while this VM wanted its cores). ``benchmarks load``
records both for every row, beside the latencies, so rows from different sittings compare.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import psutil

CLIENTS_GROUP = "benchmark clients"
MACHINE_FIELDS = ("steal", "idle", "iowait")


@dataclass(frozen=True)
class CpuMark:
    """Cumulative CPU seconds per process (PID -> (group, seconds)) and of the machine."""

    processes: dict[int, tuple[str, float]]
    machine: dict[str, float]


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process; None when it is gone or unreadable."""
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return float(times.user + times.system)


def machine_cpu_s() -> dict[str, float]:
    """The machine's CPU seconds so far (all cores): total and the fields read as shares."""
    times = psutil.cpu_times()._asdict()
    machine = {field: float(times.get(field, 0.0)) for field in MACHINE_FIELDS}
    # guest time is already counted in user time
    guest = times.get("guest", 0.0) + times.get("guest_nice", 0.0)
    machine["total"] = float(sum(times.values()) - guest)
    return machine


def mark(processes: dict[int, str]) -> CpuMark:
    """Read every process of ``processes`` (PID -> group) and this one, the clients."""
    read: dict[int, tuple[str, float]] = {}
    for pid, group in {**processes, os.getpid(): CLIENTS_GROUP}.items():
        seconds = process_cpu_s(pid)
        if seconds is not None:
            read[pid] = (group, seconds)
    return CpuMark(read, machine_cpu_s())


def spent(before: CpuMark, after: CpuMark) -> dict[str, Any]:
    """CPU seconds per group between two marks (a process born between them counts from
    zero, one that died is left out) and the machine's busy and steal shares."""
    per_group: dict[str, float] = {}
    for pid, (group, seconds) in after.processes.items():
        start = before.processes.get(pid, (group, 0.0))[1]
        per_group[group] = per_group.get(group, 0.0) + max(0.0, seconds - start)
    delta = {k: after.machine[k] - before.machine[k] for k in after.machine}
    total = max(delta["total"], 1e-9)
    idle = delta["idle"] + delta["iowait"] + delta["steal"]
    return {
        "seconds": _largest_first(per_group),
        "machine_busy_share": round(1 - idle / total, 3),
        "machine_steal_share": round(delta["steal"] / total, 3),
    }


def pooled(rounds: list[dict[str, Any]], messages: int) -> dict[str, Any]:
    """Several rounds' ``spent`` added up, with the whole cluster's CPU milliseconds per
    delivered socket-message (the clients left out: they are the benchmark, not the
    platform); the machine's shares stay per round, in order."""
    seconds: dict[str, float] = {}
    for one in rounds:
        for group, s in one["seconds"].items():
            seconds[group] = seconds.get(group, 0.0) + s
    cluster_s = sum(s for g, s in seconds.items() if g != CLIENTS_GROUP)
    return {
        "seconds": _largest_first(seconds),
        "cluster_seconds": round(cluster_s, 1),
        "cluster_ms_per_message": round(1000 * cluster_s / max(messages, 1), 3),
        "round_busy_share": [one["machine_busy_share"] for one in rounds],
        "round_steal_share": [one["machine_steal_share"] for one in rounds],
    }


def _largest_first(seconds: dict[str, float]) -> dict[str, float]:
    return {g: round(s, 2) for g, s in sorted(seconds.items(), key=lambda i: -i[1])}
