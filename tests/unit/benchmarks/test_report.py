from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.platform import profile_application
from benchmarks.report import (
    compare,
    deployed_settings,
    flatten,
    hardware_info,
    slug,
    write_result,
)
from benchmarks.tables import markdown_report
from deployments.options import AppArgs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AMD EPYC", "amd-epyc"),
        ("Intel(R) Xeon(R) CPU @ 2.20GHz", "intel-xeon-2-20ghz"),
        ("AMD Ryzen 7 5800X 8-Core Processor", "amd-ryzen-7-5800x"),
        ("NVIDIA H100 80GB HBM3", "nvidia-h100-80gb-hbm3"),
        ("???", "unknown"),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_cpu_hardware_id_names_cores_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("benchmarks.report.cpu_model", lambda: "AMD EPYC")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    info = hardware_info("cpu")
    assert info["id"] == "cpu-2c-amd-epyc"
    assert info["gpus"] == []


def test_gpu_hardware_id_names_the_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("benchmarks.report.gpu_names", lambda: ["NVIDIA H100 80GB HBM3"])
    assert hardware_info("gpu")["id"] == "gpu-1x-nvidia-h100-80gb-hbm3"


def sample_result(rtf: float = 0.2, ratio: float = 1.3) -> dict[str, Any]:
    return {
        "schema": 1,
        "suite": "all",
        "created": "2026-01-01T00:00:00+00:00",
        "commit": {"sha": "0123456789abcdef", "dirty": False},
        "hardware": {
            "id": "cpu-2c-amd-epyc",
            "cpu": "AMD EPYC",
            "cores": 2,
            "memory_gb": 23.5,
            "gpus": [],
        },
        "profile": "cpu",
        "wall_s": 600.0,
        "latency": [
            {
                "meeting": "standup3-5min",
                "duration_s": 384.0,
                "windows": 13,
                "runs": 1,
                "ttfs_s": 4.2,
                "upload_s": 0.1,
                "e2e_s": 384.0 * rtf,
                "rtf": rtf,
                "stages": {"per_window": 5.0, "decode_windowing": 1.0, "summarization": 2.0},
            },
        ],
        "throughput": {
            "meeting": "planning2-1min",
            "points": [
                {
                    "concurrency": 4,
                    "batching": True,
                    "max_batch_size": 4,
                    "wall_s": 60.0,
                    "windows": 12,
                    "windows_per_s": 0.2,
                    "audio_hours_per_hour": 4.8 * ratio,
                    "median_ttfs_s": 9.0,
                    "median_e2e_s": 50.0,
                },
                {
                    "concurrency": 4,
                    "batching": False,
                    "max_batch_size": 1,
                    "wall_s": 70.0,
                    "windows": 12,
                    "windows_per_s": 0.17,
                    "audio_hours_per_hour": 4.8,
                    "median_ttfs_s": 10.0,
                    "median_e2e_s": 60.0,
                },
            ],
            "batching_ratio": {"4": ratio},
        },
        "accuracy": [
            {
                "meeting": "standup3",
                "source": "platform",
                "backend": "embedded",
                "duration_s": 127.8,
                "wer": 0.05,
                "der": 0.04,
                "jer": 0.08,
                "cpwer": 0.07,
                "speakers_ref": 3,
                "speakers_hyp": 3,
                "action_precision": 0.8,
                "action_recall": 1.0,
            },
        ],
        "baseline": [
            {
                "meeting": "standup3-5min",
                "duration_s": 384.0,
                "load_s": 5.0,
                "asr_s": 20.0,
                "diarization_s": 10.0,
                "wall_s": 30.0,
                "rtf": 0.078,
            },
        ],
        "baseline_ratios": [{"meeting": "standup3-5min", "rtf_ratio": 2.5, "ttfs_ratio": 0.14}],
        "memory": {
            "deployments": {"Transcriber": {"peak_rss_mb": 600.0, "peak_pss_mb": 450.0}},
            "cluster_peak_pss_mb": 3000.0,
            "cluster_peak_rss_mb": 5000.0,
        },
        "targets": [
            {
                "target": "end-to-end RTF <= 0.15",
                "measured": rtf,
                "met": False,
                "source": "latency standup3-5min (6.4 min)",
            }
        ],
    }


def test_flatten_keys_every_headline_number() -> None:
    flat = flatten(sample_result())
    assert flat["latency.standup3-5min.rtf"] == 0.2
    assert flat["latency.standup3-5min.stage.per_window"] == 5.0
    assert flat["throughput.c4.batched.audio_hours_per_hour"] == pytest.approx(6.24)
    assert flat["throughput.c4.batching_ratio"] == 1.3
    assert flat["accuracy.platform.embedded.standup3.cpwer"] == 0.07
    assert flat["baseline.standup3-5min.rtf"] == 0.078
    assert flat["memory.Transcriber.peak_pss_mb"] == 450.0
    assert flat["memory.cluster_peak_pss_mb"] == 3000.0


def test_compare_reports_relative_change() -> None:
    text = compare(sample_result(rtf=0.2), sample_result(rtf=0.1, ratio=1.5))
    assert "| latency.standup3-5min.rtf | 0.2 | 0.1 | -50.0 % |" in text
    assert "| throughput.c4.batching_ratio | 1.3 | 1.5 | +15.4 % |" in text
    assert "| accuracy.platform.embedded.standup3.wer | 0.05 | 0.05 | +0.0 % |" in text
    assert text.startswith("A: all @ 0123456789 on cpu-2c-amd-epyc")


def test_markdown_report_has_every_section() -> None:
    text = markdown_report(sample_result(), "all.json")
    for heading in ("## Targets", "## Latency", "## Throughput", "## Whole-file baseline",
                    "## Accuracy", "## Memory"):  # fmt: skip
        assert heading in text
    assert "Source: `all.json`" in text
    assert "| standup3 | platform | embedded | 2.130 | 0.050 | 0.040 |" in text
    assert "4 uploads: x1.30" in text


def test_a_live_result_shows_its_stream_in_the_markdown() -> None:
    """``python -m benchmarks.live`` files: the .md used to stop after the header."""
    result = {
        **{k: v for k, v in sample_result().items() if k not in {"latency", "accuracy"}},
        "suite": "live-wire-standup3-8000-pcm_mulaw",
        "settings": {"meeting": "standup3", "wire": {"sample_rate": 8000, "encoding": "pcm_mulaw"}},
        "results": {
            "audio_s": 127.8,
            "windows": 37,
            "latency_s": {"median": 0.49, "p95": 1.093, "max": 1.658},
            "lag_s": {"first_third_median": 0.46, "last_third_median": 0.246, "max": 1.6},
            "wer": 0.0889,
            "der": 0.068,
            "speakers": {"reference": 3, "live": 3, "upload": 3},
            "upload_wer": 0.0698,
        },
    }
    text = markdown_report(result, "live.json")
    assert "## Live stream" in text
    assert "| client sends | 8000 Hz pcm_mulaw |" in text
    assert "| utterance end → transcript, median / p95 / max s | 0.490 / 1.093 / 1.658 |" in text
    assert "| speakers reference / live / upload | 3 / 3 / 3 |" in text
    assert "## Live stream" not in markdown_report(sample_result(), "all.json")


def test_write_result_writes_json_markdown_and_plots(tmp_path: Path) -> None:
    path = write_result(sample_result(), tmp_path)
    assert path == tmp_path / "all.json"
    assert json.loads(path.read_text())["latency"][0]["rtf"] == 0.2
    assert (tmp_path / "all.md").read_text().startswith("# Benchmark `all` (cpu profile)")
    for name in ("latency", "throughput", "memory"):
        png = tmp_path / f"all-{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_result_records_the_deployed_settings_of_its_profile() -> None:
    """Runs that differ in one setting say so in their own files (the load benchmark's too)."""
    recorded = deployed_settings(profile_application("cpu"))
    assert recorded["app_args"]["processor"]["cpu_nice"] == 0
    assert AppArgs.model_validate(recorded["app_args"]).processor.window_speech
    assert {d["name"] for d in recorded["deployments"]} >= {"Processor", "Transcriber"}
    load = deployed_settings(profile_application("load"))
    assert load["app_args"]["processor"]["window_speech"] is False
    assert deployed_settings(None) == {"app_args": {}, "deployments": []}
