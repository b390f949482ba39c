"""The embedded Diarizer given a window's VAD frames (what the Processor sends with upload
windows) finds the turns its own Silero pass finds, without running it."""

from __future__ import annotations

from typing import Any

import pytest

from core.types import SAMPLE_RATE
from deployments.diarizer import EmbeddedBackend
from deployments.options import DiarizerArgs
from deployments.vad import score_speech
from scripts.synth_meeting import ensure_meeting


def test_frames_give_the_same_turns_and_embeddings_without_a_vad_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = EmbeddedBackend(DiarizerArgs())
    audio = ensure_meeting("standup3", install=True).load_audio()[: 30 * SAMPLE_RATE]
    found = backend.diarize(audio)
    frames = score_speech(audio)
    monkeypatch.setattr("deployments.vad.speech_regions", _refuse)
    sent = backend.diarize(audio, frames)
    assert sent.turns == found.turns and len({t.speaker for t in found.turns}) >= 2
    assert sent.embeddings == found.embeddings


def _refuse(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("the Diarizer ran VAD again")
