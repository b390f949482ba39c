"""The GPU code paths on a CUDA device (skipped, with the reason, where none is visible).

Run on a GPU machine with ``pytest tests/gpu``; they use the packaged tiny model so they need
no hub access, and the same classes the GPU profile deploys. Each runs on the CPU too, so the
test's own code is exercised in every run, not only where a GPU is lent.
"""

from __future__ import annotations

import time

import pytest

from benchmarks.languages import windows
from deployments.options import TranscriberArgs
from deployments.transcriber import Request, Transcriber
from scripts.synth_meeting import ensure_meeting

DEVICES = [
    pytest.param("cpu", "int8", id="cpu-int8"),
    pytest.param("cuda", "float16", id="cuda-float16", marks=pytest.mark.gpu),
]


@pytest.mark.parametrize(("device", "compute_type"), DEVICES)
def test_transcriber_runs_batched(device: str, compute_type: str) -> None:
    meeting = ensure_meeting("standup3", install=True)
    audio = meeting.load_audio()
    cut = windows(audio)
    requests = [Request(window, "en", "transcribe") for window in cut]
    transcriber = Transcriber.func_or_class(  # type: ignore[attr-defined]
        TranscriberArgs(device=device, compute_type=compute_type)
    )
    began = time.perf_counter()
    results = transcriber._run_batch(requests)
    elapsed = time.perf_counter() - began
    words = sum(len(r.words) for r in results)
    print(f"{device} batch of {len(cut)} windows: {elapsed:.2f}s, {words} words")
    assert len(results) == len(cut)
    assert words > 100
