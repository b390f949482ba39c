"""A window's speech is found before its request joins a batch: VAD inside the batch ran one
window after another while a GPU waited (docs/benchmarks.md, "GPU results"); when the caller
sends the window's VAD frames, the replica runs no VAD at all."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.types import SAMPLE_RATE, TranscriptionResult
from deployments.options import TranscriberArgs
from deployments.transcriber import Request, Transcriber
from deployments.vad import score_speech, speech_regions
from scripts.synth_meeting import ensure_meeting


def test_transcribe_finds_the_speech_before_the_batch_and_the_batch_uses_it(
    monkeypatch: Any,
) -> None:
    deployment: Any = Transcriber
    transcriber = deployment.func_or_class(TranscriberArgs(cpu_threads=2))
    audio = ensure_meeting("standup3", install=True).load_audio()[: 20 * SAMPLE_RATE]
    batched: list[Request] = []

    async def batch(request: Request) -> TranscriptionResult:  # serve.batch needs a replica
        batched.append(request)
        return transcriber._run_batch([request])[0]

    monkeypatch.setattr(transcriber, "_transcribe_batch", batch)
    result = asyncio.run(transcriber.transcribe(audio, "en"))
    assert batched[0].speech == speech_regions(audio) != []
    found_in_batch = transcriber._run_batch([Request(audio, "en", "transcribe")])[0]
    monkeypatch.setattr("deployments.transcriber.speech_regions", _refuse)
    assert transcriber._run_batch([batched[0]])[0].text == result.text == found_in_batch.text


def test_transcribe_with_the_windows_frames_runs_no_vad(monkeypatch: Any) -> None:
    deployment: Any = Transcriber
    transcriber = deployment.func_or_class(TranscriberArgs(cpu_threads=2))
    audio = ensure_meeting("planning2", install=True).load_audio()[: 15 * SAMPLE_RATE]
    frames, expected = score_speech(audio), speech_regions(audio)
    batched: list[Request] = []

    async def batch(request: Request) -> TranscriptionResult:
        batched.append(request)
        return transcriber._run_batch([request])[0]

    monkeypatch.setattr(transcriber, "_transcribe_batch", batch)
    found = asyncio.run(transcriber.transcribe(audio, "en")).text
    monkeypatch.setattr("deployments.transcriber.speech_regions", _refuse)
    sent = asyncio.run(transcriber.transcribe(audio, "en", "transcribe", frames)).text
    assert batched[-1].speech == expected != [] and sent == found
    other = score_speech(audio[:-SAMPLE_RATE])  # another window's frames: refused, not used
    with pytest.raises(ValueError, match="speech frames of"):
        asyncio.run(transcriber.transcribe(audio, "en", "transcribe", other))


def _refuse(*_args: Any) -> None:
    raise AssertionError("the batch ran VAD again")
