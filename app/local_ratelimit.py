"""An in-memory sliding-window limiter, for limits where a database write per request costs
more than the limit is worth (API-key request rates, documented as per Ingress replica).

Login, registration and other abuse limits are shared across replicas (``app/ratelimit.py``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from app.ratelimit import RateLimited


class SlidingWindowLimiter:
    """At most ``limit`` hits per key within any ``window_s`` seconds, in this process."""

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
