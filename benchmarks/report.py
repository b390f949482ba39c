"""Result files: JSON (the record), a markdown table and PNG plots, and a diff of two results.

Results live in ``benchmarks/results/<hardware-id>/<suite>.{json,md}`` plus ``<suite>-*.png``;
the JSON records the commit, hardware, models and settings so numbers from different commits
and machines can be compared with ``python -m benchmarks compare A.json B.json``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.tables import markdown_report

logger = logging.getLogger(__name__)
RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_VERSION = 1


def slug(text: str) -> str:
    cleaned = re.sub(r"\((r|tm)\)|\b(processor|cpu|\d+-core)\b", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", cleaned).strip("-")[:40] or "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def nvidia_smi(field: str) -> list[str]:
    """``field`` of every GPU (``nvidia-smi --query-gpu``, no units); none without the tool."""
    if shutil.which("nvidia-smi") is None:
        return []
    out = subprocess.run(
        ["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def gpu_names() -> list[str]:
    return nvidia_smi("name")


def hardware_info(profile: str) -> dict[str, Any]:
    """What the numbers were measured on, and the id that names the results directory."""
    cores = os.cpu_count() or 0
    model = cpu_model()
    gpus = gpu_names() if profile == "gpu" else []
    hw_id = f"gpu-{len(gpus)}x-{slug(gpus[0])}" if gpus else f"cpu-{cores}c-{slug(model)}"
    memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
    return {
        "id": hw_id,
        "cpu": model,
        "cores": cores,
        "memory_gb": memory_gb,
        "gpus": gpus,
        "platform": platform.platform(),
    }


def commit_info() -> dict[str, Any]:
    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return out.stdout.strip()

    return {"sha": git("rev-parse", "HEAD") or None, "dirty": bool(git("status", "--porcelain"))}


def new_result(suite: str, profile: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "suite": suite,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit_info(),
        "hardware": hardware_info(profile),
        "profile": profile,
        "settings": settings,
    }


def deployed_settings(app: dict[str, Any] | None) -> dict[str, Any]:
    """The deployed application's arguments and per-deployment options, as a result records
    them (empty for a platform the benchmark did not deploy): runs that differ only in a
    setting, such as ``processor.window_speech``, then say so themselves."""
    app = app or {}
    return {"app_args": app.get("args", {}), "deployments": app.get("deployments", [])}


def write_result(result: dict[str, Any], out_dir: Path | None = None) -> Path:
    """Write ``<suite>.json``, ``<suite>.md`` and the plots; returns the JSON path."""
    directory = out_dir or RESULTS_DIR / result["hardware"]["id"]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result['suite']}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    (directory / f"{result['suite']}.md").write_text(markdown_report(result, path.name))
    from benchmarks.plots import write_plots

    for plot in write_plots(result, directory):
        logger.info("wrote %s", plot)
    logger.info("wrote %s", path)
    return path


def flatten(result: dict[str, Any]) -> dict[str, float]:
    """Every headline number keyed by a stable name, for diffing results."""
    out: dict[str, float] = {}
    for section in (_flat_latency, _flat_throughput, _flat_accuracy, _flat_baseline, _flat_memory):
        section(result, out)
    return out


def _flat_latency(result: dict[str, Any], out: dict[str, float]) -> None:
    for row in result.get("latency", []):
        for key in ("ttfs_s", "e2e_s", "rtf"):
            _put(out, f"latency.{row['meeting']}.{key}", row.get(key))
        for stage, value in row.get("stages", {}).items():
            _put(out, f"latency.{row['meeting']}.stage.{stage}", value)


def _flat_throughput(result: dict[str, Any], out: dict[str, float]) -> None:
    throughput = result.get("throughput") or {}
    for p in throughput.get("points", []):
        name = f"throughput.c{p['concurrency']}.{'batched' if p['batching'] else 'unbatched'}"
        _put(out, f"{name}.audio_hours_per_hour", p["audio_hours_per_hour"])
        _put(out, f"{name}.windows_per_s", p["windows_per_s"])
    for conc, ratio in throughput.get("batching_ratio", {}).items():
        _put(out, f"throughput.c{conc}.batching_ratio", ratio)


def _flat_accuracy(result: dict[str, Any], out: dict[str, float]) -> None:
    for row in result.get("accuracy", []):
        base = f"accuracy.{row['source']}.{row['backend']}.{row['meeting']}"
        for key in ("wer", "der", "jer", "cpwer", "action_precision", "action_recall"):
            _put(out, f"{base}.{key}", row.get(key))


def _flat_baseline(result: dict[str, Any], out: dict[str, float]) -> None:
    for row in result.get("baseline", []):
        for key in ("wall_s", "rtf", "asr_s", "diarization_s"):
            _put(out, f"baseline.{row['meeting']}.{key}", row.get(key))


def _flat_memory(result: dict[str, Any], out: dict[str, float]) -> None:
    memory = result.get("memory") or {}
    for name, peaks in memory.get("deployments", {}).items():
        _put(out, f"memory.{name}.peak_pss_mb", peaks.get("peak_pss_mb"))
    _put(out, "memory.cluster_peak_pss_mb", memory.get("cluster_peak_pss_mb"))


def _put(out: dict[str, float], key: str, value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        out[key] = float(value)


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """A markdown table of every number present in both results: A, B and B's change."""
    fa, fb = flatten(a), flatten(b)
    lines = [
        f"A: {_describe(a)}",
        f"B: {_describe(b)}",
        "",
        "| metric | A | B | change |",
        "|---|---:|---:|---:|",
    ]
    for key in sorted(fa.keys() & fb.keys()):
        change = "n/a" if fa[key] == 0 else f"{(fb[key] - fa[key]) / abs(fa[key]) * 100:+.1f} %"
        lines.append(f"| {key} | {fa[key]:g} | {fb[key]:g} | {change} |")
    only = sorted(fa.keys() ^ fb.keys())
    if only:
        lines += ["", f"In one file only: {', '.join(only)}"]
    return "\n".join(lines) + "\n"


def _describe(result: dict[str, Any]) -> str:
    sha = (result.get("commit") or {}).get("sha") or "unknown"
    hw = (result.get("hardware") or {}).get("id", "unknown")
    return f"{result.get('suite')} @ {sha[:10]} on {hw} ({result.get('created')})"


def load_result(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
