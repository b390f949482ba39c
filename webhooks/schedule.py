"""When a failed delivery is tried again: exponential backoff, capped, within a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 30.0
    max_interval_s: float = 1800.0
    window_s: float = 24 * 3600.0

    def delay_after(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1-based): base, 2x, 4x..."""
        exponent = min(max(attempts - 1, 0), 60)  # no float overflow for absurd counts
        return float(min(self.max_interval_s, self.base_s * 2**exponent))

    def next_attempt(self, created_at: datetime, attempts: int, now: datetime) -> datetime | None:
        """The next attempt's time, or None once it would fall outside the retry window."""
        at = now + timedelta(seconds=self.delay_after(attempts))
        if at > created_at + timedelta(seconds=self.window_s):
            return None
        return at

    def schedule(self) -> list[float]:
        """Every retry delay an event that keeps failing gets (for docs and tests)."""
        delays: list[float] = []
        elapsed = 0.0
        while True:
            delay = self.delay_after(len(delays) + 1)
            if elapsed + delay > self.window_s:
                return delays
            elapsed += delay
            delays.append(delay)
