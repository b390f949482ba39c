"""Peak memory per deployment and of the whole local cluster, sampled while benchmarks run.

Replica PIDs come from Ray's state API (``ServeReplica:<app>:<Deployment>`` actors); the
cluster is every process whose command line names this Ray session (GCS, raylet, workers,
proxy, controller, hub). RSS counts shared pages (libraries, the object store) once per process,
so the cluster figure is the sum of PSS, which splits shared pages between their users and
adds up correctly; per deployment both are reported.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import psutil

logger = logging.getLogger(__name__)
MB = 1024 * 1024
REFRESH_PIDS_S = 10.0


@dataclass
class MemoryPeaks:
    rss_mb: dict[str, float] = field(default_factory=dict)
    pss_mb: dict[str, float] = field(default_factory=dict)
    cluster_pss_mb: float = 0.0
    cluster_rss_mb: float = 0.0
    samples: int = 0

    def record(self, sample: dict[str, tuple[float, float]], cluster: tuple[float, float]) -> None:
        for name, (rss, pss) in sample.items():
            self.rss_mb[name] = max(self.rss_mb.get(name, 0.0), rss)
            self.pss_mb[name] = max(self.pss_mb.get(name, 0.0), pss)
        self.cluster_rss_mb = max(self.cluster_rss_mb, cluster[0])
        self.cluster_pss_mb = max(self.cluster_pss_mb, cluster[1])
        self.samples += 1

    def as_dict(self) -> dict[str, Any]:
        names = sorted(self.rss_mb)
        return {
            "deployments": {
                n: {"peak_rss_mb": round(self.rss_mb[n], 1), "peak_pss_mb": round(self.pss_mb[n], 1)}
                for n in names
            },
            "cluster_peak_pss_mb": round(self.cluster_pss_mb, 1),
            "cluster_peak_rss_mb": round(self.cluster_rss_mb, 1),
            "samples": self.samples,
        }


def replica_pids() -> dict[str, list[int]]:
    """Live Ray actor PIDs grouped by Serve deployment (other actors by class name)."""
    from ray.util.state import list_actors

    groups: dict[str, list[int]] = defaultdict(list)
    for actor in list_actors(filters=[("state", "=", "ALIVE")], detail=True, limit=1000):
        name = str(actor.class_name)
        if name.startswith("ServeReplica:"):
            name = name.rsplit(":", 1)[-1]
        if actor.pid:
            groups[name].append(int(actor.pid))
    return dict(groups)


def session_pids() -> list[int]:
    """Every process of this driver's Ray session (its session name is in their arguments)."""
    name = _session_name()
    pids = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if any(name in part for part in cmdline):
            pids.append(proc.pid)
    return pids


def _session_name() -> str:
    from ray._private.worker import global_worker

    return str(global_worker.node.session_name)


def process_memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB; zeros for a process that is gone or unreadable."""
    try:
        info = psutil.Process(pid).memory_full_info()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0, 0.0
    return info.rss / MB, getattr(info, "pss", info.rss) / MB


def summed_memory(pids: list[int]) -> tuple[float, float]:
    per_process = [process_memory(p) for p in pids]
    return sum(r for r, _ in per_process), sum(p for _, p in per_process)


class MemorySampler:
    """Background thread sampling the cluster every ``interval_s`` until stopped."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.peaks = MemoryPeaks()
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)
        self._groups: dict[str, list[int]] = {}
        self._cluster: list[int] = []
        self._refreshed = 0.0

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def sample_once(self) -> None:
        if time.monotonic() - self._refreshed > REFRESH_PIDS_S:
            self._groups, self._cluster = replica_pids(), session_pids()
            self._refreshed = time.monotonic()
        sample = {name: summed_memory(pids) for name, pids in self._groups.items()}
        self.peaks.record(sample, summed_memory(self._cluster))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:  # a missed sample must never stop a benchmark
                logger.exception("memory sample failed")
            self._stop.wait(self._interval)
