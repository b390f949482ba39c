"""``plan_windows``, one window at a time, while the recording is still being decoded.

A cut after ``start`` only looks at silences within ``[start + min_s, start + max_s]`` and at
the recording's length only when fewer than ``max_s + min_s`` seconds are left (see
:func:`core.windowing.next_cut`). So once speech regions are final up to ``start + max_s`` and
at least ``start + max_s + min_s`` seconds are decoded, the cut is exactly the one the
whole-file plan makes: the windows are the same, only earlier. The rest of the recording is
planned by the whole-file loop itself when the stream ends.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.windowing import Region, Window, WindowOptions, next_cut, silences


class WindowPlanner:
    """Cuts windows as regions settle; same windows as ``plan_windows`` on the whole file."""

    def __init__(self, options: WindowOptions | None = None) -> None:
        self.options = options or WindowOptions()
        self.start = 0.0  # where the next window starts
        self.planned = 0

    def lookahead_s(self) -> float:
        """Seconds past the next window's start that must be decoded before it can be cut."""
        return self.options.max_s + self.options.min_s

    def advance(
        self, regions: Sequence[Region], settled_s: float, decoded_s: float
    ) -> list[Window]:
        """The windows whose end is now certain. ``regions`` are final up to ``settled_s``;
        ``decoded_s`` seconds of audio exist (more may follow)."""
        opts, windows = self.options, []
        while settled_s >= self.start + opts.max_s and decoded_s >= self.start + self.lookahead_s():
            gaps = silences(regions, settled_s)
            windows.append(self._cut(next_cut(gaps, self.start, decoded_s, opts)))
        return windows

    def finish(self, regions: Sequence[Region], duration: float) -> list[Window]:
        """The remaining windows of a recording of ``duration`` seconds (regions all final)."""
        if duration <= 0 or duration <= self.start:
            return []
        opts, windows = self.options, []
        gaps = silences(regions, duration)
        while duration - self.start > opts.max_s:
            windows.append(self._cut(next_cut(gaps, self.start, duration, opts)))
        windows.append(self._cut(duration))
        return windows

    def _cut(self, end: float) -> Window:
        window = Window(self.planned, self.start, end)
        self.start = end
        self.planned += 1
        return window
