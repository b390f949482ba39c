"""Retry backoff: doubling from the base, capped, and covering the whole retry window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from settings.config import Settings
from webhooks.dispatcher import policy_from
from webhooks.schedule import RetryPolicy

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_delays_double_until_the_cap() -> None:
    policy = RetryPolicy(base_s=30, max_interval_s=1800, window_s=86400)
    assert [policy.delay_after(n) for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1800,
        1800,
    ]


def test_default_settings_retry_for_at_least_an_hour_and_at_most_the_window() -> None:
    policy = policy_from(Settings(environment="test"))
    delays = policy.schedule()
    assert sum(delays) >= 3600
    assert sum(delays) <= policy.window_s
    assert sum(delays) + policy.delay_after(len(delays) + 1) > policy.window_s
    assert len(delays) >= 10


def test_next_attempt_stops_at_the_end_of_the_window() -> None:
    policy = RetryPolicy(base_s=60, max_interval_s=600, window_s=3600)
    assert policy.next_attempt(T0, 1, T0) == T0 + timedelta(seconds=60)
    assert policy.next_attempt(T0, 5, T0 + timedelta(seconds=3001)) is None
    assert policy.next_attempt(T0, 5, T0 + timedelta(seconds=2999)) == T0 + timedelta(seconds=3599)


def test_absurd_attempt_counts_do_not_overflow() -> None:
    assert RetryPolicy(base_s=1, max_interval_s=7).delay_after(10_000) == 7
