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
SKIPPED_MIN_SPEECH_S = 2.0  # one stretch of speech this long says more than a word or two
REDECODE_PAD_S = 0.2


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


def skipped_spans(packed: PackedBatch, word_starts: list[float]) -> list[list[Clip]]:
    """Speech regions inside a decoded clip where Whisper heard (almost) nothing, each with
    the regions either side of it, one clip per region, to decode again one by one.

    Whisper skips a sentence it finds hard (a new accent after a turn change) and the word
    alignment then stretches the next speaker's first words back over it: the clip's rate
    looks fine, the words land in the wrong turn. Decoded alone, the skipped region is heard.
    Its neighbours are decoded again too, so the words pulled over it are put back in place.
    """
    spans: list[list[Clip]] = []
    for clip in packed.clips:
        regions = [
            (max(s, clip.start), min(e, clip.end))
            for s, e in packed.speech
            if s < clip.end and e > clip.start
        ]
        skipped = [
            i
            for i, (s, e) in enumerate(regions)
            if e - s >= SKIPPED_MIN_SPEECH_S
            and sum(s <= t < e for t in word_starts) < MIN_WORDS_PER_SPEECH_S * (e - s)
        ]
        chosen = sorted({j for i in skipped for j in (i - 1, i, i + 1) if 0 <= j < len(regions)})
        for j in chosen:  # consecutive regions form one span
            piece = Clip(clip.window, *_padded(regions, j, clip))
            if j - 1 in chosen:
                spans[-1].append(piece)
            else:
                spans.append([piece])
    return spans


def _padded(regions: list[tuple[float, float]], j: int, clip: Clip) -> tuple[float, float]:
    """Region ``j`` with up to ``REDECODE_PAD_S`` of the silence around it, never reaching
    halfway to a neighbour: Whisper hears a region cut at its first sound worse."""
    start, end = regions[j]
    before = regions[j - 1][1] if j > 0 else clip.start
    after = regions[j + 1][0] if j + 1 < len(regions) else clip.end
    return (
        max(start - REDECODE_PAD_S, (before + start) / 2, clip.start),
        min(end + REDECODE_PAD_S, (end + after) / 2, clip.end),
    )


def window_of(time_s: float, offsets: list[float]) -> int:
    """Index of the window whose span contains ``time_s`` in the concatenated timeline."""
    index = int(np.searchsorted(np.asarray(offsets), time_s, side="right")) - 1
    return max(index, 0)
