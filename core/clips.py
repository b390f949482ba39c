"""Pack the speech of several audio windows into one batch of ≤30 s clips for Whisper.

Whisper's encoder sees 30 s at a time. Batching windows from different meetings means laying
them end to end and handing the model a list of clips, then mapping each decoded segment back to
the window it came from. Pure arithmetic, so it lives in the model-free core.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.types import SAMPLE_RATE

CLIP_MAX_S = 30.0
# Fewer decoded words than this per second of speech in a clip means Whisper ended it early
# (people say 2-3 words a second; a slow speaker with long pauses still says more than 1).
MIN_WORDS_PER_SPEECH_S = 1.0
SPARSE_MIN_SPEECH_S = 4.0  # below this, a few words may be all there is ("Yes. Sure.")


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
    speech: list[tuple[float, float]] = field(default_factory=list)  # in the timeline


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
    timeline: list[tuple[float, float]] = []
    position = 0.0
    for index, (audio, regions) in enumerate(zip(windows, speech, strict=True)):
        offsets.append(position)
        for start, end in merge_speech(regions):
            clips.append(Clip(index, position + start, position + end))
        timeline.extend((position + start, position + end) for start, end in regions)
        position += len(audio) / SAMPLE_RATE
    audio = np.concatenate(windows) if windows else np.zeros(0, dtype=np.float32)
    return PackedBatch(audio.astype(np.float32, copy=False), offsets, clips, timeline)


def sparse_clips(packed: PackedBatch, word_starts: list[float]) -> list[Clip]:
    """Clips with much speech but few decoded words (``word_starts``, in the timeline).

    Decoding without timestamp tokens (the batched pipeline's mode), Whisper sometimes ends a
    long clip after its first sentence: tiny.en gave 13 words for a 30 s clip of 75, and the
    word alignment stretched them over the whole clip, so only the rate shows it.
    """
    sparse = []
    for clip in packed.clips:
        speech = sum(max(0.0, min(e, clip.end) - max(s, clip.start)) for s, e in packed.speech)
        words = sum(clip.start <= t < clip.end for t in word_starts)
        if speech >= SPARSE_MIN_SPEECH_S and words < MIN_WORDS_PER_SPEECH_S * speech:
            sparse.append(clip)
    return sparse


def window_of(time_s: float, offsets: list[float]) -> int:
    """Index of the window whose span contains ``time_s`` in the concatenated timeline."""
    index = int(np.searchsorted(np.asarray(offsets), time_s, side="right")) - 1
    return max(index, 0)
