"""The Transcriber's batched decode on one device: audio seconds per wall second by batch size.

    python -m benchmarks transcriber-batch --device cuda --compute-type float16
    python -m benchmarks transcriber-batch --device cpu --compute-type int8 --batch-sizes 1,4

Runs the Transcriber deployment's own class (VAD packing, sparse re-decodes, hallucination
guards) on corpus windows, outside Serve: it sizes a GPU node's Transcriber (how many windows
one replica turns around per second, and what a larger batch buys), it is not the platform's
path (``benchmarks load`` and ``latency`` are). Every batch size decodes the same windows;
the median of ``--repeats`` timed passes is reported, with the WER of each pass's text. Each
repeat also times an overlapped pass: every window's VAD submitted to a thread pool at once
(as a replica's concurrent ``transcribe`` calls run it in ``asyncio.to_thread``) while the
batches decode as their windows' speech is found.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import statistics
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.languages import windows
from benchmarks.report import new_result, nvidia_smi, write_result
from benchmarks.scoring import word_error_rate
from core.types import SAMPLE_RATE
from deployments.options import TranscriberArgs
from deployments.transcriber import Request, Transcriber
from deployments.vad import speech_regions
from scripts.synth_meeting import ensure_meeting

logger = logging.getLogger(__name__)
MIN_WINDOW_S = 5.0  # a meeting's last, shorter window is kept only from this length


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks transcriber-batch")
    parser.add_argument("--model", default="packaged:tiny.en")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--batch-sizes", default="1,4,8,16,32")
    parser.add_argument("--meetings", default="standup3,planning2,guest4")
    parser.add_argument("--window-s", type=float, default=30.0)
    parser.add_argument("--windows", type=int, default=64, help="windows decoded per pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args(argv)


def meeting_windows(name: str, window_s: float) -> tuple[list[np.ndarray], str]:
    """A corpus meeting cut into fixed windows, and its reference text."""
    meeting = ensure_meeting(name, install=True)
    cut = windows(meeting.load_audio(), window_s)
    return [w for w in cut if len(w) >= MIN_WINDOW_S * SAMPLE_RATE], meeting.text_path.read_text()


def gpu_memory_used_mib() -> int | None:
    used = nvidia_smi("memory.used")
    return int(used[0]) if used and used[0].isdigit() else None


@dataclass(frozen=True)
class Pass:
    vad_s: float  # finding every window's speech, one window after another
    decode_s: float  # the batches, given the speech (what a GPU replica serialises)
    batch_s: list[float]
    texts: list[str]


def timed_pass(transcriber: Any, pool: list[np.ndarray], batch: int) -> Pass:
    """Decode ``pool`` in batches of ``batch``, each window's speech found first, as the
    replica's ``transcribe`` does before a request joins a batch."""
    began = time.perf_counter()
    requests = [Request(audio, "en", "transcribe", speech_regions(audio)) for audio in pool]
    vad_s = time.perf_counter() - began
    texts: list[str] = []
    batch_s = []
    began = time.perf_counter()
    for start in range(0, len(requests), batch):
        t0 = time.perf_counter()
        texts += [r.text for r in transcriber._run_batch(requests[start : start + batch])]
        batch_s.append(time.perf_counter() - t0)
    return Pass(vad_s, time.perf_counter() - began, batch_s, texts)


def overlapped_pass(
    transcriber: Any, pool: list[np.ndarray], batch: int, threads: Executor
) -> float:
    """Wall seconds to decode ``pool`` with every window's VAD running in ``threads`` beside
    the batches, as concurrent requests to one replica overlap them."""
    began = time.perf_counter()
    found = [threads.submit(speech_regions, audio) for audio in pool]
    for start in range(0, len(pool), batch):
        span = range(start, min(start + batch, len(pool)))
        transcriber._run_batch(
            [Request(pool[i], "en", "transcribe", found[i].result()) for i in span]
        )
    return time.perf_counter() - began


def default_thread_count() -> int:
    """The size of asyncio's default executor, which ``asyncio.to_thread`` uses."""
    return min(32, (os.cpu_count() or 1) + 4)


def mean_wer(cut: list[tuple[list[np.ndarray], str]], texts: list[str]) -> float:
    """The meetings' mean WER, each scored on its windows' texts (the pool's first round)."""
    rates, position = [], 0
    for meeting, reference in cut:
        rates.append(
            word_error_rate(reference, " ".join(texts[position : position + len(meeting)]))
        )
        position += len(meeting)
    return statistics.mean(rates)


def measure_batch(
    transcriber: Any,
    pool: list[np.ndarray],
    cut: list[tuple[list[np.ndarray], str]],
    batch: int,
    opts: argparse.Namespace,
    threads: Executor,
) -> dict[str, Any]:
    """One batch size: ``opts.repeats`` serial passes, and as many with VAD in ``threads``."""
    audio_s = sum(len(w) for w in pool) / SAMPLE_RATE
    timed_pass(transcriber, pool[:batch], batch)  # warm this batch shape
    passes, overlapped = [], []
    for _ in range(opts.repeats):
        passes.append(timed_pass(transcriber, pool, batch))
        overlapped.append(overlapped_pass(transcriber, pool, batch, threads))
    decode = statistics.median(p.decode_s for p in passes)
    vad = statistics.median(p.vad_s for p in passes)
    logger.info("batch %d: %.1fx real time decoding", batch, audio_s / decode)
    return {
        "batch_size": batch,
        "windows": len(pool),
        "audio_s": round(audio_s, 1),
        "vad_s": [round(p.vad_s, 3) for p in passes],
        "decode_s": [round(p.decode_s, 3) for p in passes],
        "x_real_time": round(audio_s / (vad + decode), 1),
        "x_real_time_decode": round(audio_s / decode, 1),
        "overlapped_s": [round(seconds, 3) for seconds in overlapped],
        "x_real_time_overlapped": round(audio_s / statistics.median(overlapped), 1),
        "windows_per_s_decode": round(len(pool) / decode, 2),
        "batch_p50_s": round(statistics.median(b for p in passes for b in p.batch_s), 3),
        "wer": [round(mean_wer(cut, p.texts), 4) for p in passes],
        "gpu_memory_used_mib": gpu_memory_used_mib() if opts.device == "cuda" else None,
    }


def run(opts: argparse.Namespace) -> dict[str, Any]:
    names = [n for n in opts.meetings.split(",") if n]
    cut = [meeting_windows(name, opts.window_s) for name in names]
    one_round = [w for meeting, _ in cut for w in meeting]
    pool = list(itertools.islice(itertools.cycle(one_round), max(opts.windows, len(one_round))))
    idle_mib = gpu_memory_used_mib() if opts.device == "cuda" else None
    args = TranscriberArgs(
        model=opts.model,
        device=opts.device,
        compute_type=opts.compute_type,
        beam_size=opts.beam_size,
        cpu_nice=0,
    )
    began = time.perf_counter()
    transcriber = Transcriber.func_or_class(args)  # type: ignore[attr-defined]
    load_s = time.perf_counter() - began
    with ThreadPoolExecutor(default_thread_count()) as threads:
        rows = [
            measure_batch(transcriber, pool, cut, int(b), opts, threads)
            for b in opts.batch_sizes.split(",")
            if b
        ]
    return {
        "model_load_s": round(load_s, 2),
        "gpu_memory_idle_mib": idle_mib,
        "vad_threads": default_thread_count(),
        "meetings": names,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    opts = parse_args(argv)
    settings = {k: v for k, v in vars(opts).items() if k != "out"}
    result = new_result("transcriber-batch", "gpu" if opts.device == "cuda" else "cpu", settings)
    began = time.perf_counter()
    result["transcriber_batch"] = run(opts)
    result["wall_s"] = round(time.perf_counter() - began, 1)
    result["note"] = "A direct call of the Transcriber class, outside Serve (sizes a replica)."
    write_result(result, opts.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
