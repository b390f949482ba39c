"""The incremental planner cuts exactly the whole-file plan's windows, whatever arrives when."""

from __future__ import annotations

import random

from core.window_stream import WindowPlanner
from core.windowing import Region, Window, WindowOptions, plan_windows


def random_layout(rng: random.Random, length_s: float) -> tuple[list[Region], float]:
    regions, t = [], rng.uniform(0, 60) if rng.random() < 0.2 else rng.uniform(0, 2)
    while t < length_s:
        end = t + (rng.uniform(40, 120) if rng.random() < 0.05 else rng.uniform(0.3, 9.0))
        regions.append((t, end))
        t = end + (rng.uniform(20, 90) if rng.random() < 0.05 else rng.uniform(0.05, 2.5))
    duration = max(t, regions[-1][1]) + rng.uniform(0, 3) if regions else length_s
    return regions, duration


def known_part(regions: list[Region], settled: float, rng: random.Random) -> list[Region]:
    """What a tracker may report: the truth up to ``settled``, anything at all after it."""
    known = [(s, min(e, settled)) for s, e in regions if s < settled]
    junk_at = settled + rng.uniform(0, 5)
    return [*known, (junk_at, junk_at + rng.uniform(0, 50))]


def plan_incrementally(
    regions: list[Region], duration: float, options: WindowOptions, step: float, seed: int
) -> list[Window]:
    rng = random.Random(seed)
    planner, windows, decoded = WindowPlanner(options), [], 0.0
    while decoded < duration:
        decoded = min(duration, decoded + step)
        settled = max(0.0, decoded - rng.uniform(0, 3))  # regions lag the decoded audio
        windows += planner.advance(known_part(regions, settled, rng), settled, decoded)
    return windows + planner.finish(regions, duration)


def test_random_layouts_give_the_whole_file_windows() -> None:
    rng = random.Random(11)
    for case in range(300):
        options = rng.choice([WindowOptions(), WindowOptions(target_s=20, min_s=5, max_s=30)])
        regions, duration = random_layout(rng, rng.choice([5.0, 50.0, 400.0, 1500.0]))
        step = rng.choice([0.5, 5.12, 17.0, 60.0])
        expected = plan_windows(regions, duration, options)
        assert plan_incrementally(regions, duration, options, step, case) == expected


def test_windows_come_out_once_the_lookahead_is_decoded() -> None:
    planner = WindowPlanner()
    speech = [(0.0, 28.0), (29.0, 200.0)]
    assert planner.advance(speech, 44.9, 60.0) == []  # the cut may still move
    assert planner.advance(speech, 60.0, 54.9) == []  # the end may be near
    assert planner.advance(speech, 60.0, 55.0) == [Window(0, 0.0, 28.5)]
    assert planner.advance(speech, 60.0, 60.0) == []


def test_shorter_than_one_window_is_planned_at_the_end() -> None:
    planner = WindowPlanner()
    assert planner.advance([(1.0, 5.0)], 20.0, 20.0) == []
    assert planner.finish([(1.0, 5.0)], 20.0) == [Window(0, 0.0, 20.0)]


def test_silence_only_still_gets_windows() -> None:
    planner = WindowPlanner()
    early = planner.advance([], 100.0, 100.0)
    assert early == plan_windows([], 120.0)[: len(early)] and early
    assert early + planner.finish([], 120.0) == plan_windows([], 120.0)


def test_empty_recording_has_no_windows() -> None:
    assert WindowPlanner().finish([], 0.0) == []
