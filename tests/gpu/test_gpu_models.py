"""The GPU code paths on a CUDA device (skipped, with the reason, where none is visible).

Run on a GPU machine with ``pytest -m gpu``; they use the packaged tiny model so they need no
hub access, and the same classes the GPU profile deploys.
"""

from __future__ import annotations

import time

import pytest

from deployments.options import TranscriberArgs
from deployments.transcriber import Request, Transcriber
from scripts.synth_meeting import ensure_meeting

pytestmark = pytest.mark.gpu


def test_transcriber_runs_batched_on_cuda_in_float16() -> None:
    meeting = ensure_meeting("standup3", install=True)
    audio = meeting.load_audio()
    windows = [audio[i : i + 16_000 * 30] for i in range(0, len(audio), 16_000 * 30)]
    requests = [Request(window, "en", "transcribe") for window in windows]
    transcriber = Transcriber.func_or_class(  # type: ignore[attr-defined]
        TranscriberArgs(device="cuda", compute_type="float16")
    )
    began = time.perf_counter()
    results = transcriber._run_batch(requests)
    elapsed = time.perf_counter() - began
    words = sum(len(r.words) for r in results)
    print(f"cuda batch of {len(windows)} windows: {elapsed:.2f}s, {words} words")
    assert len(results) == len(windows)
    assert words > 100
