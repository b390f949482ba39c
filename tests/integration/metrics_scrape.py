"""Scrape the Prometheus endpoints of a running Ray cluster (reusable by integration tests).

Ray's metrics agent on every node serves ``/metrics`` on the node's metrics export port
(``ray start --metrics-export-port``, random when unset); ``ray.nodes()`` reports it. Custom
metrics appear there with a ``ray_`` prefix after the next report round (a few seconds), so
callers wait with ``wait_for_samples``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

SCRAPE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def metrics_endpoints() -> list[str]:
    """``http://host:port/metrics`` of every alive node (needs a connected Ray driver)."""
    import ray

    urls = []
    for node in ray.nodes():
        port = int(node.get("MetricsExportPort") or 0)
        if node.get("Alive") and port > 0:
            urls.append(f"http://{node['NodeManagerAddress']}:{port}/metrics")
    if not urls:
        raise RuntimeError("no node exports metrics; is the dashboard agent running?")
    return urls


def parse_samples(text: str) -> list[Sample]:
    samples = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.append(Sample(sample.name, dict(sample.labels), float(sample.value)))
    return samples


def scrape(urls: list[str] | None = None) -> list[Sample]:
    samples: list[Sample] = []
    for url in urls or metrics_endpoints():
        response = httpx.get(url, timeout=SCRAPE_TIMEOUT_S)
        response.raise_for_status()
        samples.extend(parse_samples(response.text))
    return samples


def select(samples: list[Sample], name: str, **labels: str) -> list[Sample]:
    """Samples named ``name`` whose labels include ``labels``."""
    return [s for s in samples if s.name == name and labels.items() <= s.labels.items()]


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """Sum over matching series (e.g. a counter across replicas); 0 when none match."""
    return sum(s.value for s in select(samples, name, **labels))


def wait_for_samples(
    ready: Callable[[list[Sample]], bool], timeout_s: float = 120.0, interval_s: float = 2.0
) -> list[Sample]:
    """Scrape until ``ready(samples)`` holds; the last scrape's samples on success."""
    deadline = time.monotonic() + timeout_s
    samples: list[Sample] = []
    while time.monotonic() < deadline:
        try:
            samples = scrape()
        except httpx.HTTPError:
            samples = []  # the agent restarts or is not listening yet
        if ready(samples):
            return samples
        time.sleep(interval_s)
    names = sorted({s.name for s in samples if s.name.startswith("ray_meeting")})
    raise TimeoutError(f"metrics not ready after {timeout_s}s; platform metrics seen: {names}")
