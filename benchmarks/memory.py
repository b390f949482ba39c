"""Peak memory per deployment and of the whole local cluster, sampled while benchmarks run.

The cluster is every process of this driver's Ray session (GCS, raylet, agents, workers:
replicas, proxy, controller, hub), grouped by Ray's process titles. RSS counts shared pages
(libraries, the object store) once per process, so the cluster figure is the sum of PSS, which
splits shared pages between their users and adds up correctly; per deployment both are reported.
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
SYSTEM_GROUP = "Ray system (GCS, raylet, agents)"


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
                n: {
                    "peak_rss_mb": round(self.rss_mb[n], 1),
                    "peak_pss_mb": round(self.pss_mb[n], 1),
                }
                for n in names
            },
            "cluster_peak_pss_mb": round(self.cluster_pss_mb, 1),
            "cluster_peak_rss_mb": round(self.cluster_rss_mb, 1),
            "samples": self.samples,
        }


def session_processes() -> dict[int, str]:
    """Every process of this driver's Ray session, PID -> group.

    The roots (GCS, raylet, agents) name the session in their arguments; workers are the
    raylet's children and carry Ray's process title (``ray::ServeReplica:<app>:<Deployment>``
    for replicas, ``ray::<Class>`` for other actors) instead. No state API needed, so this
    also works without the dashboard.
    """
    name = _session_name()
    found: dict[int, str] = {}
    for proc in psutil.process_iter(["cmdline"]):
        if any(name in part for part in proc.info.get("cmdline") or []):
            found[proc.pid] = SYSTEM_GROUP
            for child in _children(proc):
                found.setdefault(child.pid, process_group(child))
    return found


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return list(proc.children(recursive=True))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def process_group(proc: psutil.Process) -> str:
    try:
        title = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return SYSTEM_GROUP
    return group_of_title(title)


def group_of_title(title: str) -> str:
    """``ray::ServeReplica:meetingserve:Transcriber.handle_request`` -> ``Transcriber``."""
    if not title.startswith("ray::"):
        return SYSTEM_GROUP
    actor = title.removeprefix("ray::").split(" ", 1)[0].split(".", 1)[0]
    if actor == "IDLE":
        return "idle workers"
    return actor.rsplit(":", 1)[-1] if actor.startswith("ServeReplica:") else actor


def _session_name() -> str:
    from ray._private.worker import global_worker

    node: Any = global_worker.node
    return str(node.session_name)


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
        self._refreshed = 0.0

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def sample_once(self) -> None:
        if time.monotonic() - self._refreshed > REFRESH_PIDS_S:
            groups: dict[str, list[int]] = defaultdict(list)
            for pid, group in session_processes().items():
                groups[group].append(pid)
            self._groups = dict(groups)
            self._refreshed = time.monotonic()
        sample = {name: summed_memory(pids) for name, pids in self._groups.items()}
        cluster = tuple(sum(values) for values in zip(*sample.values(), strict=True))
        self.peaks.record(sample, (cluster[0], cluster[1]) if cluster else (0.0, 0.0))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:  # a missed sample must never stop a benchmark
                logger.exception("memory sample failed")
            self._stop.wait(self._interval)
