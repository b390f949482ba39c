"""A window's VAD frames reach a model replica as the keyword ``speech``; a replica of an older
release, which takes no such argument, gets the call again without them, and for a pause after
that no call offers them (rolling updates)."""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np
import pytest
from ray.exceptions import RayTaskError

from core.speech_tracker import SpeechFrames
from deployments.speech_calls import PAUSE_S, SpeechCalls

FRAMES = SpeechFrames(np.zeros(3, dtype=np.float32), 1_200)
AUDIO = np.zeros(1_200, dtype=np.float32)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


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
    method, calls = Method(new_transcribe), SpeechCalls(Clock())
    assert await calls.remote(method, FRAMES, AUDIO, "en") == "frames"
    assert await calls.remote(method, None, AUDIO, "en") == "own VAD"
    assert method.calls == [{"speech": FRAMES}, {}]


async def test_an_older_replica_gets_the_window_without_its_frames() -> None:
    method = Method(old_transcribe)
    assert await SpeechCalls(Clock()).remote(method, FRAMES, AUDIO, "en") == "own VAD"
    assert method.calls == [{"speech": FRAMES}, {}]


async def test_after_a_refusal_no_frames_are_offered_for_a_pause_then_again() -> None:
    """One refused (logged-as-failed) request per pause while old replicas remain, not one per
    window; once the pause is over the frames go again, to whichever replica answers."""
    clock = Clock()
    calls, old, new = SpeechCalls(clock), Method(old_transcribe), Method(new_transcribe)
    await calls.remote(old, FRAMES, AUDIO, "en")
    clock.now += PAUSE_S - 1
    assert await calls.remote(new, FRAMES, AUDIO, "en") == "own VAD"
    assert await calls.remote(old, FRAMES, AUDIO, "en") == "own VAD"
    assert old.calls == [{"speech": FRAMES}, {}, {}]
    clock.now += 1
    assert await calls.remote(new, FRAMES, AUDIO, "en") == "frames"
    assert new.calls == [{}, {"speech": FRAMES}]


async def test_other_errors_are_not_retried_nor_pause_the_frames() -> None:
    def broken(audio: np.ndarray, language: str | None, speech: Any = None) -> str:
        raise TypeError("unsupported operand type(s)")

    calls, method = SpeechCalls(Clock()), Method(broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        await calls.remote(method, FRAMES, AUDIO, "en")
    assert len(method.calls) == 1
    new = Method(new_transcribe)
    assert await calls.remote(new, FRAMES, AUDIO, "en") == "frames"
