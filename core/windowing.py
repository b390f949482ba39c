"""Cut a long recording into processing windows at silences near a target length.

Each window is diarized and transcribed on its own and published the moment it is done, so
window length trades latency against context. Cutting inside a word damages both ASR and
diarization, so cuts go in the middle of a silence found by VAD; only a speech run longer
than ``max_s`` is cut hard.

Speech regions come from a VAD model elsewhere (this module stays model-free); all times are
seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Region = tuple[float, float]


@dataclass(frozen=True, slots=True)
class WindowOptions:
    """Window lengths in seconds; ``search_s`` is the half-width around the target where the
    longest silence wins before the search widens to the whole ``[min_s, max_s]`` range."""

    target_s: float = 30.0
    min_s: float = 10.0
    max_s: float = 45.0
    search_s: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.target_s <= self.max_s:
            raise ValueError(
                "WindowOptions need 0 < min_s <= target_s <= max_s, got "
                f"min_s={self.min_s}, target_s={self.target_s}, max_s={self.max_s}"
            )
        if self.search_s < 0:
            raise ValueError(f"search_s must be >= 0, got {self.search_s}")


@dataclass(frozen=True, slots=True)
class Window:
    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def sample_slice(self, sample_rate: int) -> slice:
        """Samples of this window; neighbouring windows share rounded boundaries, so slices
        of consecutive windows neither overlap nor leave a gap."""
        return slice(round(self.start * sample_rate), round(self.end * sample_rate))


def merge_regions(regions: Iterable[Region]) -> list[Region]:
    """Sort regions and merge overlapping or touching ones; drop empty ones."""
    merged: list[Region] = []
    for start, end in sorted((float(s), float(e)) for s, e in regions if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def silences(regions: Sequence[Region], duration: float) -> list[Region]:
    """The gaps between speech regions within ``[0, duration]``, leading and trailing included."""
    gaps: list[Region] = []
    cursor = 0.0
    for start, end in merge_regions(regions):
        if start > cursor:
            gaps.append((cursor, min(start, duration)))
        cursor = max(cursor, end)
    if duration > cursor:
        gaps.append((cursor, duration))
    return [(s, e) for s, e in gaps if e > s]


def plan_windows(
    speech_regions: Sequence[Region], duration: float, options: WindowOptions | None = None
) -> list[Window]:
    """Windows covering ``[0, duration]`` without gaps or overlap, cut in silences."""
    opts = options or WindowOptions()
    if duration <= 0:
        return []
    gaps = silences(speech_regions, duration)
    windows: list[Window] = []
    start = 0.0
    while duration - start > opts.max_s:
        cut = next_cut(gaps, start, duration, opts)
        windows.append(Window(len(windows), start, cut))
        start = cut
    windows.append(Window(len(windows), start, duration))
    return windows


def find_utterance_end(
    speech_regions: Sequence[Region],
    buffered_s: float,
    min_silence_s: float = 0.5,
    options: WindowOptions | None = None,
) -> float | None:
    """Where to cut a live audio buffer, in seconds from its start, or None to keep buffering.

    Once the buffer holds ``target_s`` of audio, cut in a silence of at least
    ``min_silence_s`` (a finished utterance), chosen as for uploads; once it holds ``max_s``
    without such a silence, cut hard at ``max_s`` so latency stays bounded.
    """
    opts = options or WindowOptions()
    if buffered_s < opts.target_s:
        return None
    gaps = [g for g in silences(speech_regions, buffered_s) if g[1] - g[0] >= min_silence_s]
    hi = min(buffered_s, opts.max_s)
    cut = _choose_cut(gaps, opts.min_s, hi, opts.target_s, opts.search_s)
    if cut is not None:
        return cut
    return opts.max_s if buffered_s >= opts.max_s else None


def next_cut(gaps: Sequence[Region], start: float, duration: float, opts: WindowOptions) -> float:
    """Where the window starting at ``start`` ends, in a silence of ``gaps``; only gaps
    within ``[start + min_s, start + max_s]`` matter, and ``duration`` only when it is less
    than ``start + max_s + min_s`` (``core/window_stream.py`` relies on both)."""
    lo, hi = start + opts.min_s, start + opts.max_s
    target = start + opts.target_s
    # Prefer leaving at least min_s for the last window, but a short last window is better
    # than a cut inside speech.
    tail_hi = min(hi, duration - opts.min_s) if duration - opts.min_s >= lo else hi
    for limit in (tail_hi, hi):
        cut = _choose_cut(gaps, lo, limit, target, opts.search_s)
        if cut is not None:
            return cut
    return tail_hi


def _choose_cut(
    gaps: Sequence[Region], lo: float, hi: float, target: float, search_s: float
) -> float | None:
    """Middle of the longest silence near ``target``; widen to ``[lo, hi]`` if none is near."""
    near_lo, near_hi = max(lo, target - search_s), min(hi, target + search_s)
    for a, b in ((near_lo, near_hi), (lo, hi)):
        best = _longest_gap(gaps, a, b, target)
        if best is not None:
            return best
    return None


def _longest_gap(gaps: Sequence[Region], lo: float, hi: float, target: float) -> float | None:
    """Midpoint of the longest gap clipped to ``[lo, hi]``; ties go to the one nearest target."""
    best: tuple[float, float, float] | None = None  # (-length, distance to target, midpoint)
    for start, end in gaps:
        a, b = max(start, lo), min(end, hi)
        if b <= a:
            continue
        mid = (a + b) / 2
        key = (-(b - a), abs(mid - target), mid)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]
