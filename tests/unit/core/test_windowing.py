from __future__ import annotations

import itertools
import random

import pytest

from core.windowing import (
    Window,
    WindowOptions,
    find_utterance_end,
    merge_regions,
    plan_windows,
    silences,
)


def test_short_recording_is_one_window() -> None:
    assert plan_windows([(1.0, 5.0)], 40.0) == [Window(0, 0.0, 40.0)]


def test_no_audio_gives_no_windows() -> None:
    assert plan_windows([], 0.0) == []


def test_cuts_in_middle_of_silence_near_target() -> None:
    regions = [(0.0, 28.0), (29.0, 58.0), (60.0, 90.0)]
    assert plan_windows(regions, 90.0) == [
        Window(0, 0.0, 28.5),
        Window(1, 28.5, 59.0),
        Window(2, 59.0, 90.0),
    ]


def test_longest_silence_near_target_wins_over_nearest() -> None:
    regions = [(0.0, 26.0), (26.2, 33.0), (34.0, 60.0)]
    windows = plan_windows(regions, 60.0)
    assert windows[0] == Window(0, 0.0, 33.5)


def test_search_widens_when_no_silence_near_target() -> None:
    regions = [(0.0, 12.0), (13.0, 80.0)]
    assert plan_windows(regions, 80.0) == [
        Window(0, 0.0, 12.5),
        Window(1, 12.5, 57.5),  # 45 s of unbroken speech: hard cut at max_s
        Window(2, 57.5, 80.0),
    ]


def test_hard_cut_only_when_speech_run_exceeds_max() -> None:
    assert plan_windows([(0.0, 100.0)], 100.0) == [
        Window(0, 0.0, 45.0),
        Window(1, 45.0, 90.0),
        Window(2, 90.0, 100.0),
    ]


def test_last_window_keeps_min_length_when_possible() -> None:
    # The longer silence at 43-44 would leave a 3 s last window; the one at 20 s does not.
    regions = [(0.0, 20.0), (20.5, 43.0), (44.0, 46.5)]
    assert plan_windows(regions, 47.0) == [Window(0, 0.0, 20.25), Window(1, 20.25, 47.0)]


def test_short_last_window_beats_cutting_speech() -> None:
    regions = [(0.0, 44.0), (45.0, 46.0)]
    assert plan_windows(regions, 46.0) == [Window(0, 0.0, 44.5), Window(1, 44.5, 46.0)]


def test_random_layouts_cover_audio_and_cut_in_silence() -> None:
    rng = random.Random(7)
    opts = WindowOptions()
    for _ in range(200):
        regions, t = [], rng.uniform(0, 2)
        while t < 600:
            end = t + rng.uniform(0.5, 8.0)
            regions.append((t, end))
            t = end + rng.uniform(0.1, 2.0)
        duration = t + rng.uniform(0, 3)
        windows = plan_windows(regions, duration, opts)
        assert windows[0].start == 0.0
        assert windows[-1].end == duration
        assert [w.index for w in windows] == list(range(len(windows)))
        for prev, nxt in itertools.pairwise(windows):
            assert prev.end == nxt.start
            assert not any(s < prev.end < e for s, e in regions), "cut inside speech"
        assert all(opts.min_s <= w.duration <= opts.max_s for w in windows[:-1])
        assert windows[-1].duration <= opts.max_s


def test_sample_slices_tile_the_signal() -> None:
    windows = plan_windows([(0.0, 100.0)], 100.00003)
    slices = [w.sample_slice(16_000) for w in windows]
    assert slices[0].start == 0
    assert all(a.stop == b.start for a, b in itertools.pairwise(slices))
    assert slices[-1].stop == 1_600_000


def test_merge_regions_sorts_and_merges() -> None:
    assert merge_regions([(5.0, 6.0), (0.0, 2.0), (1.5, 3.0), (3.0, 4.0), (7.0, 7.0)]) == [
        (0.0, 4.0),
        (5.0, 6.0),
    ]


def test_silences_include_leading_and_trailing() -> None:
    assert silences([(1.0, 2.0), (3.0, 4.0)], 5.0) == [(0.0, 1.0), (2.0, 3.0), (4.0, 5.0)]


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="min_s <= target_s <= max_s"):
        WindowOptions(target_s=50.0, max_s=45.0)


def test_live_buffer_waits_until_target() -> None:
    assert find_utterance_end([(0.0, 10.0), (11.0, 20.0)], 20.0) is None


def test_live_buffer_cuts_at_utterance_end() -> None:
    regions = [(0.0, 10.0), (10.2, 25.0), (26.0, 31.0)]
    # Gaps >= 0.5 s: (25, 26) and the trailing (31, 32); equal length, 31.5 is nearer 30.
    assert find_utterance_end(regions, 32.0, min_silence_s=0.5) == 31.5
    # The 0.2 s gap at 10 s is a breath, not an utterance end.
    assert find_utterance_end([(0.0, 10.0), (10.2, 40.0)], 40.0) is None


def test_live_buffer_hard_cut_at_max() -> None:
    assert find_utterance_end([(0.0, 46.0)], 46.0) == 45.0
