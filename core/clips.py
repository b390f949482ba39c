"""Pack the speech of several audio windows into one batch of ≤30 s clips for Whisper.

Whisper's encoder sees 30 s at a time. Batching windows from different meetings means laying
them end to end and handing the model a list of clips, then mapping each decoded segment back to
the window it came from. Pure arithmetic, so it lives in the model-free core.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.types import SAMPLE_RATE

CLIP_MAX_S = 30.0


@dataclass(frozen=True, slots=True)
class Clip:
    window: int  # index into the batch
    start: float  # seconds in the concatenated timeline
    end: float


@dataclass(frozen=True, slots=True)
class PackedBatch:
    audio: np.ndarray
    offsets: list[float]  # where each window starts in the concatenated timeline
    clips: list[Clip]


def merge_speech(
    regions: list[tuple[float, float]], max_s: float = CLIP_MAX_S
) -> list[tuple[float, float]]:
    """Greedily merge consecutive speech regions into chunks no longer than ``max_s``."""
    merged: list[tuple[float, float]] = []
    for start, end in regions:
        if merged and end - merged[-1][0] <= max_s:
            merged[-1] = (merged[-1][0], end)
            continue
        while end - start > max_s:  # a single region longer than a clip: hard split
            merged.append((start, start + max_s))
            start += max_s
        merged.append((start, end))
    return merged


def pack_windows(windows: list[np.ndarray], speech: list[list[tuple[float, float]]]) -> PackedBatch:
    """Concatenate windows and turn each window's speech regions into clips."""
    offsets: list[float] = []
    clips: list[Clip] = []
    position = 0.0
    for index, (audio, regions) in enumerate(zip(windows, speech, strict=True)):
        offsets.append(position)
        for start, end in merge_speech(regions):
            clips.append(Clip(index, position + start, position + end))
        position += len(audio) / SAMPLE_RATE
    audio = np.concatenate(windows) if windows else np.zeros(0, dtype=np.float32)
    return PackedBatch(audio.astype(np.float32, copy=False), offsets, clips)


def window_of(time_s: float, offsets: list[float]) -> int:
    """Index of the window whose span contains ``time_s`` in the concatenated timeline."""
    index = int(np.searchsorted(np.asarray(offsets), time_s, side="right")) - 1
    return max(index, 0)
