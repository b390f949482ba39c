"""Suites: which benchmarks run, on which meetings, in which order, and the targets they check.

Order inside a suite matters on a small machine: the platform benchmarks run first (memory is
sampled meanwhile), then the whole-file baseline runs in this process while the platform idles,
so the two never compete for the cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.accuracy import measure_accuracy, score_meeting, score_run, segment_rows
from benchmarks.client import BenchUser, register_user
from benchmarks.memory import MemorySampler
from benchmarks.noise import noisy_meeting
from benchmarks.pipeline import (
    ThroughputPoint,
    batching_ratios,
    measure_latency,
    measure_throughput,
)
from benchmarks.platform import Platform
from scripts.synth_meeting import MeetingAudio, ensure_meeting

logger = logging.getLogger(__name__)
UNBATCHED = {"max_batch_size": 1}


def meeting_spec(minutes: float) -> str:
    """The corpus meeting used for a length: planning2 (2 voices) repeated for about a minute,
    standup3 (3 voices) repeated for longer ones; a script repeats whole, so lengths round up."""
    return f"planning2:{minutes:g}" if minutes <= 1 else f"standup3:{minutes:g}"


def load_meeting(spec: str) -> MeetingAudio:
    """``name``, ``name:minutes`` from the synthetic corpus (synthesised once, then cached),
    either with ``@<colour><snr>`` for background noise (``standup3@pink10``, benchmarks.noise)."""
    spec, _, noise = spec.partition("@")
    name, _, minutes = spec.partition(":")
    meeting = ensure_meeting(name, minutes=float(minutes) if minutes else None, install=True)
    if not noise:
        return meeting
    colour = noise.rstrip("0123456789.-")
    return noisy_meeting(meeting, float(noise[len(colour) :]), colour)


def noisy_specs(specs: list[str], snrs: list[float], colour: str) -> list[str]:
    """Each meeting clean, then at each SNR (``--snr``)."""
    return [*specs, *(f"{spec}@{colour}{snr:g}" for spec in specs for snr in snrs)]


@dataclass
class SuitePlan:
    name: str
    latency: list[str] = field(default_factory=list)
    latency_repeats: int = 1
    accuracy: list[str] = field(default_factory=list)
    score_latency_runs: bool = True
    throughput_meeting: str | None = None
    concurrency: list[int] = field(default_factory=list)
    compare_batching: bool = True
    baseline: list[str] = field(default_factory=list)
    memory: bool = True
    backends: list[str] = field(default_factory=list)  # empty: the deployed one only

    @property
    def needs_platform(self) -> bool:
        return bool(self.latency or self.accuracy or self.throughput_meeting)


@dataclass
class SuiteOutput:
    latency: list[dict[str, Any]] = field(default_factory=list)
    accuracy: list[dict[str, Any]] = field(default_factory=list)
    throughput: dict[str, Any] | None = None
    baseline: list[dict[str, Any]] = field(default_factory=list)
    baseline_ratios: list[dict[str, Any]] = field(default_factory=list)
    memory: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}


def run_platform_benchmarks(plan: SuitePlan, platform: Platform, out: SuiteOutput) -> None:
    user = register_user(platform.base_url, platform.ws_url)
    with memory_sampling(plan.memory, out):
        for backend in plan.backends or [platform.diarizer_backend]:
            if backend != platform.diarizer_backend:
                platform.set_diarizer_backend(backend)
            asyncio.run(_latency_and_accuracy(plan, user, backend, out))
        if plan.throughput_meeting and plan.concurrency:
            out.throughput = asyncio.run(throughput_sweep(plan, platform, user))


@contextlib.contextmanager
def memory_sampling(enabled: bool, out: SuiteOutput) -> Iterator[None]:
    import ray

    if not enabled:
        yield
        return
    if not ray.is_initialized():
        out.memory = {"note": "Memory not measured: the platform runs outside this process's Ray."}
        yield
        return
    with MemorySampler() as sampler:
        yield
    out.memory = sampler.peaks.as_dict()


async def _latency_and_accuracy(
    plan: SuitePlan, user: BenchUser, backend: str, out: SuiteOutput
) -> None:
    for spec in plan.latency:
        meeting = load_meeting(spec)
        result, runs = await measure_latency(user, meeting, plan.latency_repeats)
        out.latency.append({**result.summary(), "backend": backend})
        if plan.score_latency_runs:
            out.accuracy.append(score_run(user, meeting, runs[0], backend).as_dict())
    for spec in plan.accuracy:
        scores = await measure_accuracy(user, load_meeting(spec), backend)
        out.accuracy.append(scores.as_dict())


async def throughput_sweep(plan: SuitePlan, platform: Platform, user: BenchUser) -> dict[str, Any]:
    """Each concurrency with batching on and off, alternating the order so that one redeploy
    serves two measurements and neither mode always runs first."""
    assert plan.throughput_meeting is not None
    meeting = load_meeting(plan.throughput_meeting)
    compare = plan.compare_batching and platform.controllable
    batched = dict(platform.deployment_options("Transcriber").get("user_config") or {})
    batch_size = int(batched.get("max_batch_size", 0)) or None
    points: list[ThroughputPoint] = []
    modes = [True, False] if compare else [True]
    try:
        for n, concurrency in enumerate(plan.concurrency):
            for batching in modes if n % 2 == 0 else modes[::-1]:
                if compare:
                    platform.set_transcriber_user_config(batched if batching else UNBATCHED)
                size = batch_size if batching else 1
                points.append(
                    await measure_throughput(user, meeting, concurrency, batching, size or 0)
                )
    finally:
        if compare:
            platform.set_transcriber_user_config(batched)
    note = "" if compare else "Batching was not switched (the platform is not ours to redeploy)."
    return {
        "meeting": meeting.directory.name,
        "duration_s": round(meeting.duration, 2),
        "points": [asdict(p) for p in points],
        "batching_ratio": batching_ratios(points),
        "note": note,
    }


def run_baseline(plan: SuitePlan, app_args: dict[str, Any], out: SuiteOutput) -> None:
    from benchmarks.baseline import WholeFileBaseline, baseline_ratios
    from deployments.options import AppArgs

    args = AppArgs.model_validate(app_args)
    baseline = WholeFileBaseline(args.transcriber, args.diarizer)
    latency = {row["meeting"]: row for row in out.latency}
    for spec in plan.baseline:
        meeting = load_meeting(spec)
        result = baseline.run(meeting)
        out.baseline.append(asdict(result.timing))
        scores = score_meeting(
            meeting, segment_rows(result.segments), "baseline", args.diarizer.backend
        )
        out.accuracy.append(scores.as_dict())
        if meeting.directory.name in latency:
            out.baseline_ratios.append(
                baseline_ratios(latency[meeting.directory.name], result.timing)
            )


def check_targets(out: SuiteOutput) -> list[dict[str, Any]]:
    """Issue 5's targets, each with the figure it was judged on."""
    targets = []
    if out.latency:
        longest = max(out.latency, key=lambda r: r["duration_s"])
        targets.append(_target("end-to-end RTF <= 0.15", longest["rtf"], 0.15, longest))
        targets.append(_first_segment_target(out.latency))
    ratios = (out.throughput or {}).get("batching_ratio") or {}
    if ratios:
        conc = "4" if "4" in ratios else max(ratios, key=int)
        targets.append({
            "target": f"batching raises throughput at {conc} concurrent uploads (ratio > 1)",
            "measured": ratios[conc],
            "met": ratios[conc] > 1.0,
            "source": "throughput.batching_ratio",
        })  # fmt: skip
    return targets


def _first_segment_target(latency: list[dict[str, Any]]) -> dict[str, Any]:
    """Judged on a meeting of 8-15 minutes only: first-segment time grows with the file
    (decode and VAD run over the whole upload before the first window)."""
    name = "first segment <= 5 s (10-minute upload)"
    candidates = [r for r in latency if 480 <= r["duration_s"] <= 900]
    if not candidates:
        return {"target": name, "measured": None, "met": None,
                "source": "not measured: no 8-15 minute meeting in this run"}  # fmt: skip
    row = min(candidates, key=lambda r: abs(r["duration_s"] - 600))
    return _target(name, row["ttfs_s"], 5.0, row)


def _target(name: str, measured: float | None, limit: float, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "target": name,
        "measured": measured,
        "met": measured is not None and measured <= limit,
        "source": f"latency {row['meeting']} ({row['duration_s'] / 60:.1f} min)",
    }
