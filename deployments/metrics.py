"""The platform's Prometheus metrics, defined once, recorded through small typed functions.

Every metric is a ``ray.serve.metrics`` object, so samples recorded inside a replica carry the
``deployment``, ``replica`` and ``application`` tags. Ray exports them from each node's metrics
agent with a ``ray_`` prefix (counters also get ``_total``); ``docs/operations.md`` says how to
scrape them. The objects are created lazily, on first use in each process, because Serve reads
the replica context at construction time.

Recording never raises into the caller: a metric failure is logged and dropped, because
losing a sample is better than failing a meeting.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Literal, TypeVar

from ray.serve.metrics import Counter, Gauge, Histogram

from observability.web_metrics import set_metrics_sink

logger = logging.getLogger(__name__)
T = TypeVar("T")

PipelineStage = Literal[
    "decode",
    "windowing",
    "diarization",
    "transcription",
    "alignment",
    "speaker_linking",
    "summarization",
    "persistence",
    "language_detection",
    "translation",
]
JobOutcome = Literal["completed", "failed"]

# Seconds: a VAD pass takes milliseconds, a summary of an hour of speech can take a minute.
LATENCY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0]
# Processing seconds per audio second: < 1 keeps up with live audio.
RTF_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0]
# A known, bounded set of label values keeps Prometheus series counts bounded.
_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
OTHER_CODE = "other"
EVENT_TYPES = frozenset({"status", "transcript", "summary", "error", "transcript_partial"})


@dataclass(frozen=True)
class PlatformMetrics:
    stage_latency: Histogram
    time_to_first_segment: Histogram
    windows_processed: Counter
    real_time_factor: Histogram
    jobs: Counter
    websocket_connections: Gauge
    events_published: Counter
    events_replayed: Counter
    slow_consumer_disconnects: Counter
    errors: Counter
    partial_words: Counter


METRIC_NAMES = {
    "stage_latency": "meeting_stage_latency_seconds",
    "time_to_first_segment": "meeting_time_to_first_segment_seconds",
    "windows_processed": "meeting_windows_processed",
    "real_time_factor": "meeting_real_time_factor",
    "jobs": "meeting_jobs",
    "websocket_connections": "meeting_websocket_connections",
    "events_published": "meeting_events_published",
    "events_replayed": "meeting_events_replayed",
    "slow_consumer_disconnects": "meeting_slow_consumer_disconnects",
    "errors": "meeting_errors",
    "partial_words": "meeting_partial_words",
}


@cache
def platform_metrics() -> PlatformMetrics:
    """This process's metric objects (created on first use, inside the replica)."""
    n = METRIC_NAMES
    return PlatformMetrics(
        stage_latency=Histogram(
            n["stage_latency"], "Seconds spent per pipeline stage.", LATENCY_BUCKETS_S, ("stage",)
        ),
        time_to_first_segment=Histogram(
            n["time_to_first_segment"],
            "Seconds from job start to the first published transcript segment.",
            LATENCY_BUCKETS_S,
        ),
        windows_processed=Counter(n["windows_processed"], "Audio windows fully processed."),
        real_time_factor=Histogram(
            n["real_time_factor"], "Processing seconds per second of audio, per job.", RTF_BUCKETS
        ),
        jobs=Counter(n["jobs"], "Processing jobs finished, by outcome.", ("outcome",)),
        websocket_connections=Gauge(
            n["websocket_connections"], "Open meeting WebSockets on this replica."
        ),
        events_published=Counter(
            n["events_published"], "Room events published to the hub, by type.", ("type",)
        ),
        events_replayed=Counter(n["events_replayed"], "Room events re-sent from the hub log."),
        slow_consumer_disconnects=Counter(
            n["slow_consumer_disconnects"], "Sockets closed because their queue overflowed."
        ),
        errors=Counter(n["errors"], "Errors reported to clients, by code.", ("code",)),
        partial_words=Counter(
            n["partial_words"],
            "Stable words shown in live partials, and those the final text revised.",
            ("outcome",),
        ),
    )


def _safely(record: Callable[[], None], what: str) -> None:
    try:
        record()
    except Exception:  # a metrics failure must never fail the request
        logger.warning("could not record metric %s", what, exc_info=True)


def normalize_code(code: str) -> str:
    """``code`` if it looks like a protocol error code, else ``other`` (bounded cardinality)."""
    return code if _CODE_PATTERN.match(code) else OTHER_CODE


def record_stage_latency(stage: PipelineStage, seconds: float) -> None:
    _safely(
        lambda: platform_metrics().stage_latency.observe(max(seconds, 0.0), {"stage": stage}),
        "stage",
    )


@contextmanager
def time_stage(stage: PipelineStage) -> Iterator[None]:
    """Record the block's wall time as ``stage`` latency, also when it raises."""
    started = time.perf_counter()
    try:
        yield
    finally:
        record_stage_latency(stage, time.perf_counter() - started)


async def timed(stage: PipelineStage, call: Callable[[], Awaitable[T]]) -> T:
    """``await call()``, recorded as ``stage`` latency (for calls run under gather). The call is
    made inside, so a gather cancelled before it starts leaves no coroutine never awaited."""
    with time_stage(stage):
        return await call()


def record_time_to_first_segment(seconds: float) -> None:
    _safely(lambda: platform_metrics().time_to_first_segment.observe(max(seconds, 0.0)), "ttfs")


def record_windows_processed(count: int = 1) -> None:
    if count > 0:
        _safely(lambda: platform_metrics().windows_processed.inc(count), "windows")


def record_real_time_factor(processing_s: float, audio_s: float) -> float | None:
    """Observe ``processing_s / audio_s`` for one job; returns it (None for empty audio)."""
    if audio_s <= 0:
        return None
    rtf = max(processing_s, 0.0) / audio_s
    _safely(lambda: platform_metrics().real_time_factor.observe(rtf), "rtf")
    return rtf


def record_job_outcome(outcome: JobOutcome) -> None:
    _safely(lambda: platform_metrics().jobs.inc(1, {"outcome": outcome}), "jobs")


def record_event_published(event_type: str) -> None:
    kind = event_type if event_type in EVENT_TYPES else OTHER_CODE
    _safely(lambda: platform_metrics().events_published.inc(1, {"type": kind}), "published")


def record_events_replayed(count: int) -> None:
    if count > 0:
        _safely(lambda: platform_metrics().events_replayed.inc(count), "replayed")


def record_slow_consumer_disconnect() -> None:
    _safely(lambda: platform_metrics().slow_consumer_disconnects.inc(1), "slow_consumer")


def record_error(code: str) -> None:
    _safely(lambda: platform_metrics().errors.inc(1, {"code": normalize_code(code)}), "errors")


def record_partial_words(shown: int, revised: int) -> None:
    """Words a live utterance showed as stable, and how many of them its final changed."""
    if shown > 0:
        _safely(lambda: platform_metrics().partial_words.inc(shown, {"outcome": "shown"}), "pw")
    if revised > 0:
        _safely(lambda: platform_metrics().partial_words.inc(revised, {"outcome": "revised"}), "pw")


class RayMetricsSink:
    """``observability.web_metrics.MetricsSink`` over the Ray metrics; one per Ingress replica."""

    def __init__(self) -> None:
        # Held while setting the gauge too, so a stale count can never overwrite a newer one.
        self._lock = threading.RLock()
        self._open_sockets = 0

    @property
    def open_sockets(self) -> int:
        return self._open_sockets

    def websocket_opened(self) -> None:
        self._set_open(+1)

    def websocket_closed(self) -> None:
        self._set_open(-1)

    def events_replayed(self, count: int) -> None:
        record_events_replayed(count)

    def slow_consumer_disconnected(self) -> None:
        record_slow_consumer_disconnect()

    def error_sent(self, code: str) -> None:
        record_error(code)

    def publish_open_sockets(self) -> None:
        with self._lock:
            value = self._open_sockets
            _safely(lambda: platform_metrics().websocket_connections.set(value), "websockets")

    def _set_open(self, delta: int) -> None:
        with self._lock:
            self._open_sockets = max(self._open_sockets + delta, 0)
            self.publish_open_sockets()


def install_ray_metrics_sink() -> RayMetricsSink:
    """Route the web layer's metrics to Ray in this process (call in ``Ingress.__init__``)."""
    sink = RayMetricsSink()
    set_metrics_sink(sink)
    sink.publish_open_sockets()  # the gauge exists at 0 before the first socket opens
    return sink
