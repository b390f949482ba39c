"""An in-memory sliding-window limiter for login and registration attempts.

Per process: with N Ingress replicas an attacker gets at most N times the limit, which still
turns an online password guess into a slow trickle. Keys are opaque strings such as
``"ip:203.0.113.9"`` or ``"account:alice@example.com"``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable


class RateLimited(Exception):
    """Too many attempts; try again after ``retry_after_s`` seconds."""

    def __init__(self, key: str, retry_after_s: int) -> None:
        super().__init__(f"too many attempts; retry after {retry_after_s} s")
        self.key = key
        self.retry_after_s = retry_after_s


class SlidingWindowLimiter:
    """At most ``limit`` hits per key within any ``window_s`` seconds."""

    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # sync routes run in a thread pool

    def hit(self, keys: Iterable[str]) -> None:
        """Count one attempt against every key, or raise ``RateLimited`` and count nothing."""
        keys = list(dict.fromkeys(keys))
        with self._lock:
            now = self._clock()
            for key in keys:
                retry_after = self._retry_after(key, now)
                if retry_after is not None:
                    raise RateLimited(key, retry_after)
            for key in keys:
                self._hits.setdefault(key, deque()).append(now)
            self._forget_idle(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def _retry_after(self, key: str, now: float) -> int | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) < self.limit:
            return None
        return max(1, math.ceil(hits[0] + self.window_s - now))

    def _forget_idle(self, now: float) -> None:
        # Bound memory under a spray of distinct keys: drop keys whose hits all expired.
        if len(self._hits) < 10_000:
            return
        cutoff = now - self.window_s
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= cutoff]:
            del self._hits[key]
