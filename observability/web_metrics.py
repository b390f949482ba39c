"""Metrics the web layer records, behind a sink it can call without importing Ray.

``app/`` never imports ``ray``, so the WebSocket endpoint and the room fan-out record through
``metrics_sink()``: a no-op by default (unit tests, ``LocalBackend``), replaced at Ingress
start-up by ``deployments.metrics.RayMetricsSink``, which writes ``ray.serve.metrics``.
"""

from __future__ import annotations

from typing import Protocol


class MetricsSink(Protocol):
    """What the web layer reports; every method must be cheap and must never raise."""

    def websocket_opened(self) -> None: ...

    def websocket_closed(self) -> None: ...

    def events_replayed(self, count: int) -> None: ...

    def slow_consumer_disconnected(self) -> None: ...

    def error_sent(self, code: str) -> None: ...


class NoopMetricsSink:
    """The default: records nothing (tests, and the web app outside Ray Serve)."""

    def websocket_opened(self) -> None:
        return None

    def websocket_closed(self) -> None:
        return None

    def events_replayed(self, count: int) -> None:
        return None

    def slow_consumer_disconnected(self) -> None:
        return None

    def error_sent(self, code: str) -> None:
        return None


_sink: MetricsSink = NoopMetricsSink()


def set_metrics_sink(sink: MetricsSink) -> MetricsSink:
    """Install ``sink`` for this process; returns the previous one (tests restore it)."""
    global _sink
    previous, _sink = _sink, sink
    return previous


def metrics_sink() -> MetricsSink:
    return _sink
