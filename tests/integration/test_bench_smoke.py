"""``python -m benchmarks smoke`` against the shared platform: the CI benchmark subset.

Checks that the JSON it writes has every section with sane, consistent figures; the numbers
themselves are judged by the full suite (docs/benchmarks.md), not here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.cli import main
from tests.integration.conftest import RunningPlatform

pytestmark = pytest.mark.slow
SMOKE_BUDGET_S = 180  # the CI target for the smoke subset (issue 9)


@pytest.fixture(scope="module")
def smoke(platform: RunningPlatform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench-smoke")
    started = time.monotonic()
    assert main(["smoke", "--url", platform.base_url, "--out", str(out)]) == 0
    result: dict[str, Any] = json.loads((out / "smoke.json").read_text())
    result["_elapsed"] = time.monotonic() - started
    result["_dir"] = out
    return result


def test_smoke_records_where_and_what_it_measured(smoke: dict[str, Any]) -> None:
    assert smoke["suite"] == "smoke"
    assert smoke["hardware"]["id"].startswith(f"cpu-{smoke['hardware']['cores']}c-")
    assert smoke["models"]["asr"] == {
        "model": "packaged:tiny.en", "compute_type": "int8", "device": "cpu", "beam_size": 1,
    }  # fmt: skip
    assert smoke["settings"]["platform"].startswith("external: http://127.0.0.1:")
    assert smoke["_elapsed"] < SMOKE_BUDGET_S


def test_smoke_latency_is_consistent(smoke: dict[str, Any]) -> None:
    (row,) = smoke["latency"]
    assert row["meeting"] == "planning2"
    assert row["runs"] == 1 and row["windows"] >= 1
    assert 0 < row["upload_s"] < row["ttfs_s"] <= row["e2e_s"]
    # rtf is recorded to 4 decimals, so allow that rounding on top of the ratio.
    assert row["rtf"] == pytest.approx(row["e2e_s"] / row["duration_s"], rel=1e-3, abs=1e-4)
    assert row["stages"]["total"] <= row["e2e_s"]


def test_smoke_accuracy_for_platform_and_baseline(smoke: dict[str, Any]) -> None:
    rows = {(r["meeting"], r["source"]): r for r in smoke["accuracy"]}
    platform, baseline = rows[("planning2", "platform")], rows[("planning2", "baseline")]
    assert platform["wer"] <= 0.15 and platform["der"] <= 0.15
    assert platform["speakers_hyp"] == platform["speakers_ref"] == 2
    assert platform["action_recall"] is not None
    assert baseline["wer"] <= 0.15 and baseline["action_recall"] is None


def test_smoke_throughput_baseline_and_memory(smoke: dict[str, Any]) -> None:
    (point,) = smoke["throughput"]["points"]
    assert (point["concurrency"], point["batching"]) == (2, True)
    assert point["audio_hours_per_hour"] == pytest.approx(
        point["audio_s"] / point["wall_s"], rel=1e-2
    )
    assert "not switched" in smoke["throughput"]["note"]  # the shared platform is not ours
    (base,) = smoke["baseline"]
    assert base["wall_s"] == pytest.approx(base["asr_s"] + base["diarization_s"], abs=0.5)
    assert smoke["baseline_ratios"][0]["meeting"] == "planning2"
    deployments = smoke["memory"]["deployments"]
    for name in ("Transcriber", "Diarizer", "Processor", "Ingress"):
        assert deployments[name]["peak_pss_mb"] > 10
    assert smoke["memory"]["cluster_peak_pss_mb"] > deployments["Transcriber"]["peak_pss_mb"]


def test_smoke_writes_markdown_and_plots(smoke: dict[str, Any]) -> None:
    directory: Path = smoke["_dir"]
    assert "## Latency" in (directory / "smoke.md").read_text()
    for name in ("latency", "throughput", "memory"):
        assert (directory / f"smoke-{name}.png").stat().st_size > 1000
