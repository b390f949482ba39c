"""Packing windows of several meetings into one Whisper batch and mapping results back."""

from __future__ import annotations

import numpy as np

from core.clips import (
    Clip,
    merge_speech,
    pack_windows,
    skipped_spans,
    sparse_clips,
    window_of,
)


def test_merge_speech_joins_regions_up_to_the_clip_length() -> None:
    regions = [(0.0, 5.0), (6.0, 20.0), (21.0, 29.0), (31.0, 40.0)]
    assert merge_speech(regions, max_s=30.0) == [(0.0, 29.0), (31.0, 40.0)]


def test_merge_speech_hard_splits_a_region_longer_than_a_clip() -> None:
    assert merge_speech([(0.0, 70.0)], max_s=30.0) == [(0.0, 30.0), (30.0, 60.0), (60.0, 70.0)]


def test_pack_windows_offsets_clips_and_maps_back() -> None:
    a = np.ones(16_000 * 10, dtype=np.float32)
    b = np.ones(16_000 * 4, dtype=np.float32)
    packed = pack_windows([a, b], [[(1.0, 3.0)], [(0.5, 2.0)]])
    assert packed.offsets == [0.0, 10.0]
    assert packed.clips == [Clip(0, 1.0, 3.0), Clip(1, 10.5, 12.0)]
    assert len(packed.audio) == 16_000 * 14
    assert [window_of(t, packed.offsets) for t in (0.0, 9.99, 10.0, 13.5)] == [0, 0, 1, 1]


def test_a_window_without_speech_gets_no_clip() -> None:
    packed = pack_windows([np.zeros(16_000, dtype=np.float32)], [[]])
    assert packed.clips == []


def test_sparse_clips_are_those_with_much_speech_and_few_words() -> None:
    windows = [np.zeros(16_000 * 30, dtype=np.float32), np.zeros(16_000 * 30, dtype=np.float32)]
    packed = pack_windows(windows, [[(0.0, 6.0), (7.0, 29.0)], [(1.0, 3.0)]])
    assert packed.speech == [(0.0, 6.0), (7.0, 29.0), (31.0, 33.0)]
    # 28 s of speech: 13 words is an early stop, 40 is speech; 2 s and one word ("Yes.") is fine
    early = [0.5 + 0.3 * i for i in range(13)]
    assert sparse_clips(packed, [*early, 31.5]) == [Clip(0, 0.0, 29.0)]
    assert sparse_clips(packed, [0.5 + 0.7 * i for i in range(40)] + [31.5]) == []


def test_skipped_spans_are_long_regions_without_words_with_their_neighbours() -> None:
    audio = np.zeros(16_000 * 30, dtype=np.float32)
    regions = [(0.0, 4.0), (4.5, 9.5), (10.0, 13.0), (14.0, 20.0), (21.0, 22.0)]
    packed = pack_windows([audio], [regions])
    heard = [0.2 * i for i in range(20)] + [8.0, 9.0] + [10.0 + 0.3 * i for i in range(10)]
    heard += [14.0 + 0.4 * i for i in range(15)] + [21.2]
    # 4.5-9.5: five seconds of speech, two word starts (a skipped sentence) -> with 0-4 and
    # 10-13 around it, each padded by up to 0.2 s of its own silence
    assert skipped_spans(packed, heard) == [
        [Clip(0, 0.0, 4.2), Clip(0, 4.3, 9.7), Clip(0, 9.8, 13.2)]
    ]
    assert skipped_spans(packed, [*heard, 5.0, 5.5, 6.0, 6.5, 7.0]) == []


def test_a_short_region_with_one_word_is_not_skipped_speech() -> None:
    packed = pack_windows([np.zeros(16_000 * 10, dtype=np.float32)], [[(1.0, 2.5)]])
    assert skipped_spans(packed, [1.2]) == []
