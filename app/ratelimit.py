"""Rate limits whose state lives in the database, so N Ingress replicas enforce one limit.

Two policies over the same bucket rows (``persistence/limits.py``):

- ``WindowPolicy``: at most ``limit`` counted events per fixed window (per-address login
  failures, registrations, add-member misses, summary regenerations).
- ``BackoffPolicy``: after ``free`` failures each further attempt must wait a delay that doubles
  per failure up to ``max_delay_s``; a success forgets the bucket. It slows an account down,
  it never locks it: the wait is bounded and announced in ``Retry-After``.

Attempts are counted *before* the password is checked and refunded on success, so concurrent
guesses cannot slip past the limit between check and count.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from persistence import Database
from persistence.limits import (
    BucketContended,
    BucketState,
    bucket_key,
    change_bucket,
    forget_bucket,
    forget_idle_buckets,
    read_bucket,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
IDLE_BUCKET_S = 24 * 3600  # buckets untouched for a day are deleted now and then
SWEEP_PROBABILITY = 0.01


class RateLimited(Exception):
    """Too many attempts; try again after ``retry_after_s`` seconds."""

    def __init__(self, key: str, retry_after_s: int) -> None:
        super().__init__(f"too many attempts; retry after {retry_after_s} s")
        self.key = key
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    """At most ``limit`` counted events per fixed window of ``window_s`` seconds."""

    limit: int
    window_s: float

    def take(self, state: BucketState, now: float) -> BucketState | float:
        """The state with one more event, or the seconds until one is allowed."""
        if now >= state.window_start + self.window_s:
            state = BucketState(0, now, 0.0)
        if state.count >= self.limit:
            return state.window_start + self.window_s - now
        return replace(state, count=state.count + 1)

    def refund(self, state: BucketState, now: float) -> BucketState:
        return replace(state, count=max(0, state.count - 1))


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """``free`` failures, then a doubling delay between attempts (``base_s`` … ``max_delay_s``);
    a bucket idle for ``forget_s`` starts over."""

    free: int
    base_s: float
    max_delay_s: float
    forget_s: float

    def delay_after(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.max_delay_s, self.base_s * 2 ** min(failures - self.free, 30))

    def take(self, state: BucketState, now: float) -> BucketState | float:
        if now >= state.window_start + self.forget_s:
            state = BucketState()
        if now < state.blocked_until:
            return state.blocked_until - now
        failures = state.count + 1  # counted as a failure until the password proves otherwise
        return BucketState(failures, now, now + self.delay_after(failures))

    def refund(self, state: BucketState, now: float) -> BucketState:
        return BucketState()


Policy = WindowPolicy | BackoffPolicy


class SharedLimiter:
    """Takes and refunds events in database buckets (see the module docstring)."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self.db = db
        self.clock = clock

    def take(self, name: str, policy: Policy) -> None:
        """Count one event in bucket ``name`` or raise ``RateLimited`` (counting nothing)."""
        now = self.clock()
        wait: list[float] = []

        def change(state: BucketState) -> BucketState | None:
            result = policy.take(state, now)
            if not isinstance(result, BucketState):
                wait[:] = [result]
                return None
            return result

        with self.db.session() as session:
            try:
                taken = change_bucket(session, bucket_key(name), change)
            except BucketContended:
                taken, wait[:] = None, [1.0]
            if random.random() < SWEEP_PROBABILITY:  # noqa: S311 (not cryptographic)
                forget_idle_buckets(session, now - IDLE_BUCKET_S)
        if taken is None:
            raise RateLimited(name, max(1, math.ceil(wait[0])))

    def check(self, name: str, policy: Policy) -> None:
        """Raise ``RateLimited`` if an event would be refused now; counts nothing."""
        now = self.clock()
        with self.db.session() as session:
            result = policy.take(read_bucket(session, bucket_key(name)), now)
        if not isinstance(result, BucketState):
            raise RateLimited(name, max(1, math.ceil(result)))

    def take_all(self, named: list[tuple[str, Policy]]) -> None:
        """Take from every bucket, or from none: a refusal refunds the ones already taken."""
        taken: list[tuple[str, Policy]] = []
        try:
            for name, policy in named:
                self.take(name, policy)
                taken.append((name, policy))
        except RateLimited:
            for name, policy in taken:
                self.refund(name, policy)
            raise

    def refund(self, name: str, policy: Policy) -> None:
        """Give back one event (a success): a window bucket decrements, a backoff resets."""
        now = self.clock()
        with self.db.session() as session:
            if isinstance(policy, BackoffPolicy):
                forget_bucket(session, bucket_key(name))
                return
            try:
                change_bucket(session, bucket_key(name), lambda s: policy.refund(s, now))
            except BucketContended:
                logger.warning("could not refund a rate-limit event (bucket contended)")

    # ---- leases: "one at a time" across replicas, released when done or after ``hold_s`` --

    def claim_lease(self, name: str, hold_s: float) -> int | None:
        """Hold ``name`` for up to ``hold_s`` seconds; None when claimed, else the seconds
        until the current holder's lease runs out (it normally releases sooner)."""
        now = self.clock()
        left: list[float] = []

        def change(state: BucketState) -> BucketState | None:
            if now < state.blocked_until:
                left[:] = [state.blocked_until - now]
                return None
            return BucketState(1, now, now + hold_s)

        with self.db.session() as session:
            try:
                claimed = change_bucket(session, bucket_key(name), change)
            except BucketContended:
                return 1
        return None if claimed is not None else max(1, math.ceil(left[0]))

    def release_lease(self, name: str) -> None:
        with self.db.session() as session:
            forget_bucket(session, bucket_key(name))
