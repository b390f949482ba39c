"""The platform's metrics reach the Prometheus endpoint of the running cluster.

Until the pipeline and the Ingress record through ``deployments.metrics`` on their own, a
test-only deployment in the same cluster calls every recording function; the scrape then
finds each metric with the exact values recorded (filtered by that deployment's tag, so
whatever the platform itself records in the same session cannot disturb the numbers).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from deployments.metrics import LATENCY_BUCKETS_S, RTF_BUCKETS
from tests.integration.conftest import RunningPlatform
from tests.integration.metrics_scrape import Sample, select, total, wait_for_samples

PROBE_APP = "metrics-probe"
PROBE = {"deployment": "MetricsProbe", "application": PROBE_APP}


def midpoint(value: float, boundaries: list[float]) -> float:
    """What Ray exports for one observation: its bucket's midpoint, not the value itself
    (ray/_private/telemetry/open_telemetry_metric_recorder.py), so ``_sum`` is approximate."""
    lower = 0.0
    for upper in boundaries:
        if value <= upper:
            return (lower + upper) / 2
        lower = upper
    return boundaries[-1] * 2


def probe_deployment() -> Any:
    """Defined in a function so Ray ships the class by value (tests/ is not on workers' path)."""
    from ray import serve

    @serve.deployment(name="MetricsProbe", ray_actor_options={"num_cpus": 0})
    class MetricsProbe:
        def record(self) -> float | None:
            from deployments import metrics

            metrics.record_stage_latency("transcription", 0.2)
            metrics.record_stage_latency("transcription", 0.3)
            metrics.record_stage_latency("diarization", 1.5)
            metrics.record_time_to_first_segment(2.5)
            metrics.record_windows_processed(3)
            metrics.record_job_outcome("completed")
            metrics.record_job_outcome("completed")
            metrics.record_job_outcome("failed")
            metrics.record_event_published("transcript")
            metrics.record_event_published("status")
            sink = metrics.install_ray_metrics_sink()
            sink.websocket_opened()
            sink.websocket_opened()
            sink.websocket_closed()
            sink.events_replayed(5)
            sink.slow_consumer_disconnected()
            sink.error_sent("bad_message")
            return metrics.record_real_time_factor(15.0, 60.0)

    return MetricsProbe


@pytest.fixture(scope="module")
def probe_samples(platform: RunningPlatform) -> Iterator[list[Sample]]:
    from ray import serve

    handle = serve.run(probe_deployment().bind(), name=PROBE_APP, route_prefix=None)
    assert handle.record.remote().result(timeout_s=60) == 0.25
    httpx.get(f"{platform.base_url}/healthz", timeout=10)  # one request through the proxy
    try:
        yield wait_for_samples(probe_recorded)
    finally:
        serve.delete(PROBE_APP)


def probe_recorded(samples: list[Sample]) -> bool:
    return bool(
        select(samples, "ray_meeting_errors_total", **PROBE)
        and select(samples, "ray_meeting_real_time_factor_count", **PROBE)
        and select(samples, "ray_meeting_websocket_connections", **PROBE)
    )


def test_stage_latency_histogram_per_stage(probe_samples: list[Sample]) -> None:
    name = "ray_meeting_stage_latency_seconds"
    transcription = {**PROBE, "stage": "transcription"}
    assert total(probe_samples, f"{name}_count", **transcription) == 2
    expected_sum = midpoint(0.2, LATENCY_BUCKETS_S) + midpoint(0.3, LATENCY_BUCKETS_S)
    assert total(probe_samples, f"{name}_sum", **transcription) == pytest.approx(expected_sum)
    assert total(probe_samples, f"{name}_bucket", **transcription, le="0.25") == 1
    assert total(probe_samples, f"{name}_bucket", **transcription, le="0.5") == 2
    assert total(probe_samples, f"{name}_count", **PROBE, stage="diarization") == 1


def test_time_to_first_segment_and_real_time_factor(probe_samples: list[Sample]) -> None:
    ttfs = "ray_meeting_time_to_first_segment_seconds"
    assert total(probe_samples, f"{ttfs}_count", **PROBE) == 1
    assert total(probe_samples, f"{ttfs}_bucket", **PROBE, le="2.5") == 1
    assert total(probe_samples, f"{ttfs}_bucket", **PROBE, le="1.0") == 0
    assert total(probe_samples, f"{ttfs}_sum", **PROBE) == pytest.approx(
        midpoint(2.5, LATENCY_BUCKETS_S)
    )
    rtf = "ray_meeting_real_time_factor"
    assert total(probe_samples, f"{rtf}_count", **PROBE) == 1
    assert total(probe_samples, f"{rtf}_bucket", **PROBE, le="0.3") == 1
    assert total(probe_samples, f"{rtf}_bucket", **PROBE, le="0.2") == 0
    assert total(probe_samples, f"{rtf}_sum", **PROBE) == pytest.approx(midpoint(0.25, RTF_BUCKETS))


def test_counters_by_outcome_type_and_code(probe_samples: list[Sample]) -> None:
    assert total(probe_samples, "ray_meeting_windows_processed_total", **PROBE) == 3
    assert total(probe_samples, "ray_meeting_jobs_total", **PROBE, outcome="completed") == 2
    assert total(probe_samples, "ray_meeting_jobs_total", **PROBE, outcome="failed") == 1
    published = "ray_meeting_events_published_total"
    assert total(probe_samples, published, **PROBE, type="transcript") == 1
    assert total(probe_samples, published, **PROBE, type="status") == 1
    assert total(probe_samples, "ray_meeting_events_replayed_total", **PROBE) == 5
    assert total(probe_samples, "ray_meeting_slow_consumer_disconnects_total", **PROBE) == 1
    assert total(probe_samples, "ray_meeting_errors_total", **PROBE, code="bad_message") == 1


def test_websocket_gauge_holds_the_open_count(probe_samples: list[Sample]) -> None:
    assert total(probe_samples, "ray_meeting_websocket_connections", **PROBE) == 1


def test_platform_serve_metrics_are_on_the_same_endpoint(probe_samples: list[Sample]) -> None:
    # Serve's own per-deployment metrics sit beside ours: one scrape config covers both.
    replicas = select(probe_samples, "ray_serve_deployment_replica_healthy")
    assert {"Ingress", "Transcriber"} <= {s.labels.get("deployment") for s in replicas}


@pytest.mark.slow
def test_platform_records_its_own_metrics_after_an_upload(platform: RunningPlatform) -> None:
    import asyncio

    from scripts.synth_meeting import ensure_meeting
    from tests.integration.client import collect_until_done, register

    user = register(platform.base_url, platform.ws_url)
    meeting_id = user.create_meeting("Metrics")
    response = user.upload(meeting_id, ensure_meeting("short2", install=True).audio_path)
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    received = asyncio.run(collect_until_done(user, meeting_id, last_seq=0, job_id=job_id))
    assert received[-1].message["status"] == "completed"
    processor = {"deployment": "Processor", "application": "meetingserve"}

    stage = "ray_meeting_stage_latency_seconds_count"
    stages = ("decode", "transcription", "diarization", "alignment", "summarization")

    def missing(samples: list[Sample]) -> list[str]:
        checks = {
            "jobs": total(samples, "ray_meeting_jobs_total", **processor, outcome="completed"),
            "windows": total(samples, "ray_meeting_windows_processed_total", **processor),
            "ttfs": total(samples, "ray_meeting_time_to_first_segment_seconds_count", **processor),
            "rtf<=1": total(samples, "ray_meeting_real_time_factor_bucket", **processor, le="1.0"),
            **{name: total(samples, stage, **processor, stage=name) for name in stages},
        }
        return [name for name, value in checks.items() if value < 1]

    # Replicas export on an interval, so wait until every metric of the job has arrived.
    samples = wait_for_samples(lambda s: not missing(s))
    assert missing(samples) == []
