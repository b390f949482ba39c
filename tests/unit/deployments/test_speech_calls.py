"""A window's VAD frames reach a model replica as the keyword ``speech``; a replica of an older
release, which takes no such argument, gets the call again without them (rolling updates)."""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np
import pytest
from ray.exceptions import RayTaskError

from core.speech_tracker import SpeechFrames
from deployments.speech_calls import remote_with_speech

FRAMES = SpeechFrames(np.zeros(3, dtype=np.float32), 1_200)
AUDIO = np.zeros(1_200, dtype=np.float32)


class Method:
    """A Serve handle's method at the edge: records the calls, replies like the replica."""

    def __init__(self, replica: Any) -> None:
        self.replica = replica
        self.calls: list[dict[str, Any]] = []

    async def remote(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        try:
            return self.replica(*args, **kwargs)
        except Exception as e:  # as Ray raises a replica's error on the caller's side
            trace = "".join(traceback.format_exception(e))
            raise RayTaskError("transcribe", trace, e).as_instanceof_cause() from None


def new_transcribe(audio: np.ndarray, language: str | None, speech: Any = None) -> str:
    return "frames" if speech is not None else "own VAD"


def old_transcribe(audio: np.ndarray, language: str | None) -> str:
    return "own VAD"


async def test_frames_go_as_a_keyword_to_a_current_replica() -> None:
    method = Method(new_transcribe)
    assert await remote_with_speech(method, FRAMES, AUDIO, "en") == "frames"
    assert await remote_with_speech(method, None, AUDIO, "en") == "own VAD"
    assert method.calls == [{"speech": FRAMES}, {}]


async def test_an_older_replica_gets_the_window_without_its_frames() -> None:
    method = Method(old_transcribe)
    assert await remote_with_speech(method, FRAMES, AUDIO, "en") == "own VAD"
    assert method.calls == [{"speech": FRAMES}, {}]


async def test_other_errors_are_not_retried() -> None:
    def broken(audio: np.ndarray, language: str | None, speech: Any = None) -> str:
        raise TypeError("unsupported operand type(s)")

    method = Method(broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        await remote_with_speech(method, FRAMES, AUDIO, "en")
    assert len(method.calls) == 1
