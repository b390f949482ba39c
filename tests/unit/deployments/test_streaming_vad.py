"""Streaming VAD gives the whole-file regions, and says truthfully how far they are final."""

from __future__ import annotations

from collections.abc import Iterator

import faster_whisper.vad as fw_vad
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.speech_tracker import FRAME_SAMPLES, SpeechTracker
from core.windowing import Region
from deployments.vad import BufferVad, StreamingVad, score_speech, speech_regions
from scripts.synth_meeting import ensure_meeting


def clipped(regions: list[Region], until: float) -> list[Region]:
    return [(s, min(e, until)) for s, e in regions if s < until]


class FixedProbabilities:
    """Stands in for the Silero model in faster-whisper's own region code."""

    def __init__(self, probabilities: np.ndarray) -> None:
        self.probabilities = probabilities

    def __call__(self, padded: np.ndarray) -> np.ndarray:
        assert padded.size == self.probabilities.size * FRAME_SAMPLES
        return self.probabilities


def reference_regions(
    probabilities: np.ndarray, length: int, monkeypatch: pytest.MonkeyPatch
) -> list[Region]:
    """faster-whisper's own ``get_speech_timestamps`` on these probabilities."""
    monkeypatch.setattr(fw_vad, "get_vad_model", lambda: FixedProbabilities(probabilities))
    return speech_regions(np.zeros(length, dtype=np.float32))


def frames_of(length: int) -> int:
    return length // FRAME_SAMPLES + 1  # faster-whisper always pads, a whole frame if need be


runs = st.lists(
    st.tuples(st.sampled_from([0.05, 0.3, 0.45, 0.6, 0.95]), st.integers(1, 40)), max_size=40
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(runs=runs, tail=st.integers(0, FRAME_SAMPLES - 1), step=st.integers(1, 50))
def test_tracker_matches_faster_whisper_and_never_revises_settled_regions(
    runs: list[tuple[float, int]], tail: int, step: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    probabilities = np.array([p for p, n in runs for _ in range(n)] + [0.0], dtype=np.float32)
    length = (probabilities.size - 1) * FRAME_SAMPLES + tail
    if frames_of(length) != probabilities.size:
        return
    if length < FRAME_SAMPLES:  # speech_regions refuses under one frame: tested below
        return
    expected = reference_regions(probabilities, length, monkeypatch)
    tracker = SpeechTracker(min_silence_ms=300, pad_ms=100)
    settled = 0.0
    for at in range(0, probabilities.size, step):
        tracker.push(probabilities[at : at + step])
        if at + step >= probabilities.size:
            break
        assert tracker.settled_s >= settled  # what was final stays final
        settled = tracker.settled_s
        assert clipped(tracker.regions(), settled) == clipped(expected, settled)
    tracker.finish(length)
    assert tracker.regions() == expected
    assert tracker.first_speech_s == (expected[0][0] if expected else None)


def test_speech_in_the_end_padding_alone_is_dropped_as_faster_whisper_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Speech, a pause that ends it, then "speech" only in the zero frame past the end.
    probabilities = np.array([0.9] * 20 + [0.05] * 11 + [0.9], dtype=np.float32)
    length = 31 * FRAME_SAMPLES
    expected = reference_regions(probabilities, length, monkeypatch)
    tracker = SpeechTracker(min_silence_ms=300, pad_ms=100)
    tracker.push(probabilities)
    tracker.finish(length)
    assert tracker.regions() == expected == [(0.0, 20 * FRAME_SAMPLES / 16_000 + 0.1)]


def test_under_one_frame_has_no_speech() -> None:
    tracker = SpeechTracker()
    tracker.push([0.99])
    tracker.finish(FRAME_SAMPLES - 1)
    assert tracker.regions() == [] and tracker.first_speech_s is None


def corpus_audio(name: str) -> np.ndarray:
    return ensure_meeting(name, install=True).load_audio()


def chunks_of(audio: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for at in range(0, audio.size, size):
        yield audio[at : at + size]


@pytest.mark.parametrize("chunk", [300, 512, 16_000 * 5 + 7, 160 * 512])
def test_real_speech_gives_the_whole_file_regions_for_any_chunk_size(chunk: int) -> None:
    audio = corpus_audio("standup3")
    expected = speech_regions(audio)
    vad = StreamingVad()
    for part in chunks_of(audio, chunk):
        vad.push(part)
        settled = vad.tracker.settled_s
        assert clipped(vad.tracker.regions(), settled) == clipped(expected, settled)
    vad.finish()
    assert vad.tracker.regions() == expected and len(expected) > 10


def test_silence_has_no_regions_and_settles_as_it_goes() -> None:
    noise = np.random.default_rng(0).normal(0, 0.001, 16_000 * 20).astype(np.float32)
    vad = StreamingVad()
    vad.push(noise)
    assert vad.tracker.settled_s > 19.0
    vad.finish()
    assert vad.tracker.regions() == speech_regions(noise) == []


def test_a_growing_buffer_gives_speech_regions_at_every_look_and_after_a_restart() -> None:
    """What a live session sees: the buffer grows by odd amounts, each look has its own pause
    and padding, and a cut drops the buffer's front."""
    audio = corpus_audio("planning2")[: 16_000 * 14]
    rng = np.random.default_rng(7)
    vad, start, end, looks = BufferVad(), 0, 0, 0
    while end < audio.size:
        end = min(audio.size, end + int(rng.integers(200, 4_000)))
        if end - start > 16_000 * 6:  # a cut 4 s in: the front is dropped
            start += 16_000 * 4
            vad.restart()
        buffer = audio[start:end]
        pause_ms, pad_ms = int(rng.choice([200, 300, 500])), int(rng.choice([30, 100]))
        got = vad.regions(buffer, min_silence_ms=pause_ms, pad_ms=pad_ms)
        assert got == speech_regions(buffer, min_silence_ms=pause_ms, pad_ms=pad_ms)
        looks += 1
    assert looks > 50 and speech_regions(audio)  # many looks, over real speech


def test_a_windows_scored_frames_give_its_speech_regions_for_any_pause_and_padding() -> None:
    """What the Processor sends with an upload window: the Transcriber's and the Diarizer's
    regions derived from it are the ones their own Silero pass would find."""
    audio = corpus_audio("standup3")
    rng = np.random.default_rng(3)
    for _ in range(12):
        start = int(rng.integers(0, audio.size - 16_000))
        window = audio[start : start + int(rng.integers(1_000, 16_000 * 35))]
        frames = score_speech(window)
        for pause_ms, pad_ms in ((300, 100), (200, 100), (500, 30)):
            expected = speech_regions(window, min_silence_ms=pause_ms, pad_ms=pad_ms)
            assert frames.regions(min_silence_ms=pause_ms, pad_ms=pad_ms) == expected
    assert score_speech(audio).regions() == speech_regions(audio) != []


@pytest.mark.parametrize("length", [0, 300, 511, 512, 1024, 16_000])
def test_scored_frames_of_short_and_frame_aligned_windows(length: int) -> None:
    window = corpus_audio("planning2")[16_000 : 16_000 + length]
    frames = score_speech(window)
    assert frames.samples == length
    assert frames.regions() == speech_regions(window)
    with pytest.raises(ValueError, match="speech frames of"):
        frames.matches(np.zeros(length + 1, dtype=np.float32))
