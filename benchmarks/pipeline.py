"""Latency, real-time factor and throughput through the real HTTP upload + WebSocket path.

Client-side figures (time to first segment, end-to-end time) use the client's monotonic clock
from the moment the upload request starts; per-stage figures use the server's status-event
timestamps (same host, so the clocks agree), which isolate the stages from transfer time.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from benchmarks.client import BenchUser, MeetingRun, process_upload
from scripts.synth_meeting import MeetingAudio

logger = logging.getLogger(__name__)


class RunFailedError(RuntimeError):
    """A benchmark upload ended ``failed``; the benchmark's figures would be meaningless."""

    def __init__(self, meeting: str, reason: str) -> None:
        super().__init__(f"{meeting}: processing failed: {reason}")
        self.meeting = meeting
        self.reason = reason


@dataclass(frozen=True)
class RunTiming:
    """One upload's timings, in seconds."""

    duration_s: float
    windows: int
    segments: int
    upload_s: float
    ttfs_s: float | None
    e2e_s: float
    rtf: float
    stages: dict[str, float]


@dataclass
class LatencyResult:
    meeting: str
    duration_s: float
    windows: int
    runs: list[RunTiming] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Medians over the runs, plus the raw runs."""
        stage_names = sorted({k for r in self.runs for k in r.stages})
        return {
            "meeting": self.meeting,
            "duration_s": round(self.duration_s, 2),
            "windows": self.windows,
            "runs": len(self.runs),
            "ttfs_s": median([r.ttfs_s for r in self.runs]),
            "upload_s": median([r.upload_s for r in self.runs]),
            "e2e_s": median([r.e2e_s for r in self.runs]),
            "rtf": median([r.rtf for r in self.runs]),
            "stages": {s: median([r.stages.get(s) for r in self.runs]) for s in stage_names},
            "raw": [asdict(r) for r in self.runs],
        }


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 4) if present else None


def check_completed(meeting: str, run: MeetingRun) -> None:
    if run.status != "completed":
        errors = run.of_type("error")
        raise RunFailedError(meeting, errors[-1]["error"] if errors else run.status)


def timing_of(run: MeetingRun, duration_s: float) -> RunTiming:
    transcripts = [a.at for a in run.arrivals if a.message.get("type") == "transcript"]
    terminal = run.arrivals[-1].at
    e2e = terminal - run.started
    return RunTiming(
        duration_s=round(duration_s, 3),
        windows=windows_of(run),
        segments=len(transcripts),
        upload_s=round(run.upload_done - run.started, 4),
        ttfs_s=round(transcripts[0] - run.started, 4) if transcripts else None,
        e2e_s=round(e2e, 4),
        rtf=round(e2e / duration_s, 5),
        stages=stage_latencies(run.of_type("status")),
    )


def windows_of(run: MeetingRun) -> int:
    counts = [s["details"].get("windows") for s in run.of_type("status")]
    return max((c for c in counts if c is not None), default=0)


def stage_latencies(statuses: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Seconds per stage from the server's status timestamps.

    ``decode_windowing``: upload received → windows planned (decode + VAD over the file);
    ``first_window``: windows planned → first window aligned and published;
    ``windows``: windows planned → last window published (diarization ∥ transcription);
    ``per_window``: median gap between consecutive published windows;
    ``summarization``: last window → completed; ``total``: upload received → completed.
    """
    marks: dict[str, float] = {}
    aligned: list[float] = []
    for status in statuses:
        stage, at = status["details"]["stage"], parse_time(status["timestamp"])
        if stage == "alignment":
            aligned.append(at)
        marks.setdefault(stage, at)
    if not {"upload", "diarization", "done"} <= marks.keys() or not aligned:
        return {}
    out = {
        "decode_windowing": marks["diarization"] - marks["upload"],
        "first_window": aligned[0] - marks["diarization"],
        "windows": aligned[-1] - marks["diarization"],
        "summarization": marks["done"] - aligned[-1],
        "total": marks["done"] - marks["upload"],
    }
    gaps = [b - a for a, b in itertools.pairwise(aligned)]
    if gaps:
        out["per_window"] = statistics.median(gaps)
    return {k: round(v, 4) for k, v in out.items()}


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


async def measure_latency(
    user: BenchUser, meeting: MeetingAudio, repeats: int = 1
) -> tuple[LatencyResult, list[MeetingRun]]:
    """Upload the meeting ``repeats`` times, one at a time (nothing else in flight)."""
    result = LatencyResult(meeting.directory.name, meeting.duration, 0)
    runs = []
    for n in range(repeats):
        run = await process_upload(user, meeting.audio_path, f"latency {result.meeting} #{n}")
        check_completed(result.meeting, run)
        timing = timing_of(run, meeting.duration)
        logger.info(
            "latency %s run %d: ttfs=%.2fs e2e=%.1fs rtf=%.3f",
            result.meeting,
            n,
            timing.ttfs_s or -1,
            timing.e2e_s,
            timing.rtf,
        )
        result.runs.append(timing)
        result.windows = timing.windows
        runs.append(run)
    return result, runs


@dataclass(frozen=True)
class ThroughputPoint:
    concurrency: int
    batching: bool
    max_batch_size: int
    wall_s: float
    windows: int
    audio_s: float
    windows_per_s: float
    audio_hours_per_hour: float
    median_ttfs_s: float | None
    median_e2e_s: float | None


async def measure_throughput(
    user: BenchUser, meeting: MeetingAudio, concurrency: int, batching: bool, batch_size: int
) -> ThroughputPoint:
    """``concurrency`` uploads of the meeting at once; wall time from the first upload start
    to the last completion."""
    started = time.monotonic()
    runs = await asyncio.gather(
        *(
            process_upload(user, meeting.audio_path, f"throughput c{concurrency} #{n}")
            for n in range(concurrency)
        )
    )
    wall = time.monotonic() - started
    for run in runs:
        check_completed(meeting.directory.name, run)
    timings = [timing_of(run, meeting.duration) for run in runs]
    windows = sum(t.windows for t in timings)
    audio = meeting.duration * concurrency
    point = ThroughputPoint(
        concurrency=concurrency,
        batching=batching,
        max_batch_size=batch_size,
        wall_s=round(wall, 3),
        windows=windows,
        audio_s=round(audio, 2),
        windows_per_s=round(windows / wall, 4),
        audio_hours_per_hour=round(audio / wall, 3),
        median_ttfs_s=median([t.ttfs_s for t in timings]),
        median_e2e_s=median([t.e2e_s for t in timings]),
    )
    logger.info("throughput %s", point)
    return point


def batching_ratios(points: Sequence[ThroughputPoint]) -> dict[str, float]:
    """Batched / unbatched audio-hours per hour at each concurrency measured both ways."""
    by_key = {(p.concurrency, p.batching): p for p in points}
    ratios = {}
    for (concurrency, batching), point in sorted(by_key.items()):
        off = by_key.get((concurrency, False))
        if batching and off is not None and off.audio_hours_per_hour > 0:
            ratios[str(concurrency)] = round(
                point.audio_hours_per_hour / off.audio_hours_per_hour, 3
            )
    return ratios
