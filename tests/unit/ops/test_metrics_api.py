"""The recording API: right metric, right tags, bounded labels, never raising into callers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

import deployments.metrics as metrics
from observability.web_metrics import NoopMetricsSink, metrics_sink, set_metrics_sink


class FakeMetric:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, str] | None]] = []

    def observe(self, value: float, tags: dict[str, str] | None = None) -> None:
        self.calls.append(("observe", value, tags))

    def inc(self, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        self.calls.append(("inc", value, tags))

    def set(self, value: float, tags: dict[str, str] | None = None) -> None:
        self.calls.append(("set", value, tags))


@pytest.fixture
def fake() -> Iterator[metrics.PlatformMetrics]:
    fake_metrics = metrics.PlatformMetrics(
        **{f.name: FakeMetric() for f in fields(metrics.PlatformMetrics)}  # type: ignore[arg-type]
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "platform_metrics", lambda: fake_metrics)
        yield fake_metrics


@pytest.fixture
def restore_sink() -> Iterator[None]:
    previous = metrics_sink()
    yield
    set_metrics_sink(previous)


def calls(metric: Any) -> list[tuple[str, Any, dict[str, str] | None]]:
    assert isinstance(metric, FakeMetric)
    return metric.calls


def test_real_metric_objects_are_built_once_with_the_documented_names() -> None:
    first = metrics.platform_metrics()
    assert first is metrics.platform_metrics()
    names = {f.name: getattr(first, f.name).info["name"] for f in fields(first)}
    assert names == metrics.METRIC_NAMES
    assert first.stage_latency.info["tag_keys"] == ("stage",)
    assert first.jobs.info["tag_keys"] == ("outcome",)


def test_pipeline_recorders_use_stage_and_outcome_tags(fake: metrics.PlatformMetrics) -> None:
    metrics.record_stage_latency("transcription", 1.5)
    metrics.record_stage_latency("diarization", -0.1)  # clock skew: clamp, never fail
    metrics.record_time_to_first_segment(4.0)
    metrics.record_windows_processed(3)
    metrics.record_windows_processed(0)
    metrics.record_job_outcome("failed")
    assert calls(fake.stage_latency) == [
        ("observe", 1.5, {"stage": "transcription"}),
        ("observe", 0.0, {"stage": "diarization"}),
    ]
    assert calls(fake.time_to_first_segment) == [("observe", 4.0, None)]
    assert calls(fake.windows_processed) == [("inc", 3, None)]
    assert calls(fake.jobs) == [("inc", 1, {"outcome": "failed"})]


def test_real_time_factor_is_processing_over_audio(fake: metrics.PlatformMetrics) -> None:
    assert metrics.record_real_time_factor(15.0, 60.0) == 0.25
    assert metrics.record_real_time_factor(5.0, 0.0) is None
    assert calls(fake.real_time_factor) == [("observe", 0.25, None)]


def test_event_and_error_labels_stay_bounded(fake: metrics.PlatformMetrics) -> None:
    metrics.record_event_published("transcript")
    metrics.record_event_published("made-up")
    metrics.record_error("unsupported_audio")
    metrics.record_error("Bad Code; DROP TABLE")
    metrics.record_events_replayed(7)
    metrics.record_events_replayed(0)
    metrics.record_slow_consumer_disconnect()
    assert calls(fake.events_published) == [
        ("inc", 1, {"type": "transcript"}),
        ("inc", 1, {"type": "other"}),
    ]
    assert calls(fake.errors) == [
        ("inc", 1, {"code": "unsupported_audio"}),
        ("inc", 1, {"code": "other"}),
    ]
    assert calls(fake.events_replayed) == [("inc", 7, None)]
    assert calls(fake.slow_consumer_disconnects) == [("inc", 1, None)]


def test_a_failing_metric_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> metrics.PlatformMetrics:
        raise RuntimeError("metrics agent gone")

    monkeypatch.setattr(metrics, "platform_metrics", broken)
    metrics.record_job_outcome("completed")
    assert "could not record metric jobs" in caplog.text


def test_ray_sink_tracks_open_sockets_on_the_gauge(
    fake: metrics.PlatformMetrics, restore_sink: None
) -> None:
    sink = metrics.install_ray_metrics_sink()
    assert metrics_sink() is sink
    sink.websocket_opened()
    sink.websocket_opened()
    sink.websocket_closed()
    sink.websocket_closed()
    sink.websocket_closed()  # a double close never drives the gauge negative
    assert sink.open_sockets == 0
    assert [value for _, value, _ in calls(fake.websocket_connections)] == [0, 1, 2, 1, 0, 0]


def test_ray_sink_forwards_web_layer_events(
    fake: metrics.PlatformMetrics, restore_sink: None
) -> None:
    sink = metrics.install_ray_metrics_sink()
    sink.events_replayed(4)
    sink.slow_consumer_disconnected()
    sink.error_sent("bad_message")
    assert calls(fake.events_replayed) == [("inc", 4, None)]
    assert calls(fake.slow_consumer_disconnects) == [("inc", 1, None)]
    assert calls(fake.errors) == [("inc", 1, {"code": "bad_message"})]


def test_web_layer_default_sink_is_a_noop(restore_sink: None) -> None:
    set_metrics_sink(NoopMetricsSink())
    sink = metrics_sink()
    sink.websocket_opened()
    sink.events_replayed(3)
    sink.error_sent("bad_message")
    assert isinstance(sink, NoopMetricsSink)


def test_set_metrics_sink_returns_the_previous_sink(restore_sink: None) -> None:
    first, second = NoopMetricsSink(), NoopMetricsSink()
    set_metrics_sink(first)
    assert set_metrics_sink(second) is first
    assert metrics_sink() is second


def test_time_stage_records_elapsed_time_even_on_error(fake: metrics.PlatformMetrics) -> None:
    with pytest.raises(ValueError), metrics.time_stage("decode"):
        raise ValueError("bad audio")
    ((kind, seconds, tags),) = calls(fake.stage_latency)
    assert (kind, tags) == ("observe", {"stage": "decode"})
    assert 0 <= seconds < 1


async def test_timed_returns_the_result_and_records_the_stage(
    fake: metrics.PlatformMetrics,
) -> None:
    async def transcribe() -> str:
        await asyncio.sleep(0.01)
        return "text"

    assert await metrics.timed("transcription", transcribe) == "text"
    ((_, seconds, tags),) = calls(fake.stage_latency)
    assert tags == {"stage": "transcription"}
    assert 0.005 <= seconds < 1  # slept 10 ms; loop and perf clocks differ slightly


def test_operations_guide_documents_every_metric() -> None:
    guide = (Path(__file__).resolve().parents[3] / "docs" / "operations.md").read_text()
    missing = [name for name in metrics.METRIC_NAMES.values() if f"ray_{name}" not in guide]
    assert missing == []
