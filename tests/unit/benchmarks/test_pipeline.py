from __future__ import annotations

from typing import Any

import pytest

from benchmarks.client import Arrival, MeetingRun
from benchmarks.pipeline import (
    RunFailedError,
    ThroughputPoint,
    batching_ratios,
    check_completed,
    median,
    stage_latencies,
    timing_of,
)


def status(stage: str, at: str, status: str = "processing", **details: Any) -> dict[str, Any]:
    return {
        "type": "status",
        "status": status,
        "timestamp": f"2026-01-01T10:00:{at}+00:00",
        "details": {"stage": stage, "message": "", **details},
    }


STATUSES = [
    status("upload", "00.000"),
    status("diarization", "01.500", window=0, windows=3),
    status("transcription", "01.510", window=0, windows=3),
    status("alignment", "05.500", window=1, windows=3),
    status("alignment", "08.500", window=2, windows=3),
    status("alignment", "12.500", window=3, windows=3),
    status("summarization", "12.600"),
    status("done", "14.000", status="completed"),
]


def test_stage_latencies_from_status_timestamps() -> None:
    assert stage_latencies(STATUSES) == {
        "decode_windowing": 1.5,
        "first_window": 4.0,
        "windows": 11.0,
        "per_window": 3.5,
        "summarization": 1.5,
        "total": 14.0,
    }


def test_stage_latencies_of_a_failed_job_are_empty() -> None:
    failed = [status("upload", "00.000"), status("done", "01.000", status="failed")]
    assert stage_latencies(failed) == {}


def make_run() -> MeetingRun:
    run = MeetingRun("m1", started=100.0, upload_done=100.4)
    times = [100.5, 101.0, 101.1, 104.2, 104.3, 107.0, 110.0, 112.5, 113.0, 114.0]
    transcript = {"type": "transcript", "segment": {"speaker": "S", "text": "x", "start": 0}}
    messages = [*STATUSES[:3], STATUSES[3], transcript, STATUSES[4], STATUSES[5], transcript]
    messages += STATUSES[6:]
    run.arrivals = [Arrival(at, m) for at, m in zip(times, messages, strict=True)]
    return run


def test_timing_of_a_run_uses_the_client_clock_from_upload_start() -> None:
    timing = timing_of(make_run(), duration_s=60.0)
    assert timing.upload_s == pytest.approx(0.4)
    assert timing.ttfs_s == pytest.approx(4.3)
    assert timing.e2e_s == pytest.approx(14.0)
    assert timing.rtf == pytest.approx(14.0 / 60.0, abs=1e-5)
    assert (timing.windows, timing.segments) == (3, 2)
    assert timing.stages["total"] == 14.0


def test_check_completed_raises_with_the_error_event() -> None:
    run = MeetingRun("m1", started=0.0)
    run.arrivals = [
        Arrival(1.0, {"type": "error", "error": "Audio is empty", "code": "empty_audio"}),
        Arrival(1.1, status("done", "01.000", status="failed")),
    ]
    with pytest.raises(RunFailedError, match="Audio is empty") as info:
        check_completed("standup3", run)
    assert info.value.meeting == "standup3"
    check_completed("ok", make_run())


def point(concurrency: int, batching: bool, rate: float) -> ThroughputPoint:
    return ThroughputPoint(concurrency, batching, 4 if batching else 1, 10.0, 6, 60.0, 0.6,
                           rate, None, None)  # fmt: skip


def test_batching_ratio_only_where_both_modes_ran() -> None:
    points = [point(1, True, 5.0), point(1, False, 5.0), point(4, False, 6.0),
              point(4, True, 9.0), point(2, True, 7.0)]  # fmt: skip
    assert batching_ratios(points) == {"1": 1.0, "4": 1.5}


def test_median_ignores_missing_values() -> None:
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([None]) is None


def test_attributed_segments_apply_the_last_speaker_state_as_clients_do() -> None:
    run = MeetingRun("m1", started=0.0)
    line = {"type": "transcript", "segment": {"id": "w0-0", "speaker": "SPEAKER_00", "text": "a"}}
    other = {"type": "transcript", "segment": {"id": "w0-1", "speaker": "SPEAKER_02", "text": "b"}}
    stale = {"type": "speakers", "merges": {}, "segment_speakers": {"w0-0": "SPEAKER_02"}}
    final = {
        "type": "speakers",
        "merges": {"SPEAKER_02": "SPEAKER_01"},
        "segment_speakers": {"w0-0": "SPEAKER_03"},
    }
    run.arrivals = [Arrival(t, m) for t, m in enumerate([line, other, stale, final])]
    assert [s["speaker"] for s in run.segments] == ["SPEAKER_00", "SPEAKER_02"]
    assert [s["speaker"] for s in run.attributed_segments] == ["SPEAKER_03", "SPEAKER_01"]
    run.arrivals = run.arrivals[:2]  # no speaker state: the segments as published
    assert run.attributed_segments == run.segments
