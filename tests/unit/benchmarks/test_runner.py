from __future__ import annotations

import os

import pytest

from benchmarks.baseline import BaselineTiming, baseline_ratios, is_hallucination
from benchmarks.memory import (
    SYSTEM_GROUP,
    MemoryPeaks,
    group_of_title,
    process_memory,
    summed_memory,
)
from benchmarks.runner import SuiteOutput, check_targets, meeting_spec
from deployments.options import TranscriberArgs


def test_meeting_spec_per_length() -> None:
    assert meeting_spec(1) == "planning2:1"
    assert meeting_spec(5) == "standup3:5"
    assert meeting_spec(60.0) == "standup3:60"


def latency_row(meeting: str, minutes: float, rtf: float, ttfs: float) -> dict[str, object]:
    return {"meeting": meeting, "duration_s": minutes * 60, "rtf": rtf, "ttfs_s": ttfs}


def test_targets_judge_the_longest_meeting_and_the_one_nearest_ten_minutes() -> None:
    out = SuiteOutput(
        latency=[
            latency_row("a", 1.2, 0.4, 3.0),
            latency_row("b", 10.7, 0.2, 4.5),
            latency_row("d", 6.4, 0.2, 1.0),
            latency_row("c", 21.3, 0.14, 6.0),
        ],
        throughput={"batching_ratio": {"1": 0.9, "4": 1.25}},
    )
    targets = check_targets(out)
    assert [(t["measured"], t["met"]) for t in targets] == [(0.14, True), (4.5, True), (1.25, True)]
    assert targets[0]["source"] == "latency c (21.3 min)"
    assert "at 4 concurrent" in targets[2]["target"]


def test_targets_not_met_and_no_ratio_without_a_comparison() -> None:
    out = SuiteOutput(latency=[latency_row("a", 10.0, 0.3, 7.0)], throughput={"batching_ratio": {}})
    assert [t["met"] for t in check_targets(out)] == [False, False]


def test_first_segment_target_needs_a_meeting_of_about_ten_minutes() -> None:
    out = SuiteOutput(latency=[latency_row("a", 1.2, 0.1, 2.0), latency_row("b", 21.0, 0.1, 3.0)])
    target = check_targets(out)[1]
    assert (target["measured"], target["met"]) == (None, None)
    assert target["source"] == "not measured: no 8-15 minute meeting in this run"


def test_baseline_ratios_divide_platform_by_baseline() -> None:
    timing = BaselineTiming("m", 600.0, 5.0, 40.0, 20.0, 60.0, 0.1)
    ratios = baseline_ratios({"rtf": 0.2, "ttfs_s": 3.0}, timing)
    assert ratios == {"meeting": "m", "rtf_ratio": 2.0, "ttfs_ratio": 0.05}


class FakeSegment:
    def __init__(self, no_speech: float, logprob: float, compression: float) -> None:
        self.no_speech_prob, self.avg_logprob, self.compression_ratio = (
            no_speech,
            logprob,
            compression,
        )


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        (FakeSegment(0.9, -1.5, 1.2), True),  # likely silence and unsure
        (FakeSegment(0.9, -0.2, 1.2), False),  # silence-ish but confident: keep
        (FakeSegment(0.1, -0.3, 3.0), True),  # repetitive
        (FakeSegment(0.1, -0.3, 1.5), False),
    ],
)
def test_baseline_applies_the_transcriber_guards(segment: FakeSegment, expected: bool) -> None:
    assert is_hallucination(segment, TranscriberArgs()) is expected


def test_memory_peaks_keep_the_maximum() -> None:
    peaks = MemoryPeaks()
    peaks.record({"Transcriber": (500.0, 400.0)}, (3000.0, 2000.0))
    peaks.record({"Transcriber": (450.0, 420.0), "Diarizer": (300.0, 250.0)}, (2900.0, 2100.0))
    assert peaks.as_dict() == {
        "deployments": {
            "Diarizer": {"peak_rss_mb": 300.0, "peak_pss_mb": 250.0},
            "Transcriber": {"peak_rss_mb": 500.0, "peak_pss_mb": 420.0},
        },
        "cluster_peak_pss_mb": 2100.0,
        "cluster_peak_rss_mb": 3000.0,
        "samples": 2,
    }


def test_process_memory_of_this_process_and_of_a_missing_one() -> None:
    rss, pss = process_memory(os.getpid())
    assert rss > 10 and 0 < pss <= rss
    assert process_memory(2**22 + 12345) == (0.0, 0.0)
    assert summed_memory([]) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("title", "group"),
    [
        ("ray::ServeReplica:meetingserve:Transcriber", "Transcriber"),
        ("ray::ServeReplica:meetingserve:Diarizer.handle_request_with_rejection", "Diarizer"),
        ("ray::ProxyActor", "ProxyActor"),
        ("ray::ServeController.listen_for_change", "ServeController"),
        ("ray::IDLE", "idle workers"),
        ("/usr/bin/python -m ray.util.client.server", SYSTEM_GROUP),
    ],
)
def test_processes_are_grouped_by_ray_process_title(title: str, group: str) -> None:
    assert group_of_title(title) == group
