"""Decoded audio in fixed-size chunks, and a buffer that keeps only the part still needed.

The uploads pipeline reads a recording piece by piece (``deployments/window_source.py``):
chunks of a fixed number of samples, whatever frame sizes the codec used, so everything that
consumes them (VAD, the window planner) sees the same boundaries for the same file, and a
:class:`SampleBuffer` that forgets samples once no window can need them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


def fixed_chunks(arrays: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Regroup float32 arrays into chunks of exactly ``size`` samples; the last may be shorter.

    At most one chunk plus one input array is held at a time.
    """
    if size <= 0:
        raise ValueError(f"chunk size must be positive, got {size}")
    pending: list[np.ndarray] = []
    held = 0
    for array in arrays:
        while array.size:
            take = min(size - held, array.size)
            pending.append(array[:take])
            held += take
            array = array[take:]
            if held == size:
                yield _concat(pending)
                pending, held = [], 0
    if held:
        yield _concat(pending)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return np.array(parts[0], dtype=np.float32)  # a copy: never a view of a codec frame
    return np.concatenate(parts).astype(np.float32, copy=False)


class SampleBuffer:
    """The samples of a stream from ``start`` (a sample index) to ``end``, in appended chunks.

    ``take`` copies a range out; ``forget_before`` drops whole chunks that end before an index,
    so the buffer holds about the span between the oldest window not yet cut and the newest
    decoded chunk, however long the stream.
    """

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self.start = 0  # sample index of the first held sample
        self.end = 0  # sample index one past the last appended sample

    def append(self, chunk: np.ndarray) -> None:
        if chunk.size:
            self._chunks.append(chunk)
            self.end += chunk.size

    @property
    def held(self) -> int:
        return self.end - self.start

    def take(self, begin: int, stop: int) -> np.ndarray:
        """A copy of samples ``[begin, stop)``; they must still be held."""
        if begin < self.start or stop > self.end or stop < begin:
            raise ValueError(f"samples [{begin}, {stop}) are not in [{self.start}, {self.end})")
        out = np.empty(stop - begin, dtype=np.float32)
        offset, written = self.start, 0
        for chunk in self._chunks:
            lo, hi = max(begin, offset), min(stop, offset + chunk.size)
            if hi > lo:
                out[written : written + hi - lo] = chunk[lo - offset : hi - offset]
                written += hi - lo
            offset += chunk.size
            if offset >= stop:
                break
        return out

    def forget_before(self, index: int) -> None:
        """Drop the chunks that end at or before ``index``."""
        while self._chunks and self.start + self._chunks[0].size <= index:
            self.start += self._chunks.pop(0).size
