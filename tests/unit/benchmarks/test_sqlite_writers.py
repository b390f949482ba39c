"""The SQLite writers benchmark runs the real append_events from several processes."""

from __future__ import annotations

import pytest

from benchmarks.sqlite_writers import WriterPlan, run_mode


@pytest.mark.parametrize("queued", [False, True])
def test_every_transaction_of_every_writer_thread_is_timed(queued: bool) -> None:
    plan = WriterPlan(processes=2, threads=2, transactions=3, think_ms=1, burners=1)
    row = run_mode(queued, plan)
    assert row["mode"] == ("writer queue" if queued else "busy handler")
    assert row["transactions"] == 2 * 2 * 3
    assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]
