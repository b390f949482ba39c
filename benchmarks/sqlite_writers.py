"""SQLite write transactions from many processes on a busy machine: our writer queue vs
SQLite's busy handler alone (persistence/sqlite_writes.py).

    python -m benchmarks sqlite-writers
    python -m benchmarks sqlite-writers --processes 5 --threads 4 --transactions 100

Each writer process (the hub shards', Processors' and Ingress's role) runs ``--threads``
threads that store a window of three room events at a time with the real ``append_events``,
each in its own transaction, a few milliseconds apart. ``--burners`` processes spin on the
cores meanwhile, as a saturated 2-core box does, so writers are descheduled in the middle of
their transactions. Reported per mode: time per transaction (session start to commit)
p50/p99/max and transactions/s, and the ratio. A direct measurement of one cost, not the
platform's path (``benchmarks load`` is).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import random
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.hub_shards import make_meetings, percentile
from benchmarks.report import new_result, write_result

logger = logging.getLogger(__name__)
MODES = ("busy handler", "writer queue")
WRITER_TIMEOUT_S = 600  # a writer process that died never reports


@dataclass(frozen=True)
class WriterPlan:
    processes: int
    threads: int  # per process
    transactions: int  # per thread
    think_ms: float  # at most this long between two transactions of a thread
    burners: int


def writer_process(url: str, queued: bool, meetings: list[str], plan: WriterPlan, out: Any) -> None:
    """``plan.threads`` threads, each with its own meeting, storing windows of events."""
    from persistence import Database, append_events

    os.nice(15)  # as Ray starts its workers
    db = Database(url, writer_queue=queued)
    took: list[float] = []

    def one_thread(meeting_id: str) -> None:
        for n in range(plan.transactions):
            time.sleep(random.uniform(0, plan.think_ms / 1000))
            window = [{"seq": 3 * n + i, "type": "segment", "text": "x" * 200} for i in (1, 2, 3)]
            started = time.perf_counter()
            with db.session() as session:
                append_events(session, meeting_id, window)
            took.append(1000 * (time.perf_counter() - started))

    threads = [threading.Thread(target=one_thread, args=(m,)) for m in meetings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.dispose()
    out.put(took)


def burn(stop: Any) -> None:
    os.nice(15)  # the busy processes are Ray workers too
    while not stop.is_set():
        sum(range(10_000))


def run_mode(queued: bool, plan: WriterPlan) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="sqlite-writers-"))
    try:
        url = f"sqlite:///{data / 'bench.db'}"
        meetings = make_meetings(url, plan.processes * plan.threads)
        ctx = mp.get_context("spawn")
        out, stop = ctx.Queue(), ctx.Event()
        burners = [ctx.Process(target=burn, args=(stop,)) for _ in range(plan.burners)]
        for b in burners:
            b.start()
        try:
            started = time.perf_counter()
            per = plan.threads
            mine = [meetings[i * per : (i + 1) * per] for i in range(plan.processes)]
            writers = [
                ctx.Process(target=writer_process, args=(url, queued, m, plan, out)) for m in mine
            ]
            for w in writers:
                w.start()
            took = [ms for _ in writers for ms in out.get(timeout=WRITER_TIMEOUT_S)]
            wall = time.perf_counter() - started
            for w in writers:
                w.join()
        finally:  # a failed writer must not leave the spinners running
            stop.set()
            for b in burners:
                b.join()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    row = {
        "mode": MODES[queued],
        "transactions": len(took),
        "p50_ms": percentile(took, 0.5),
        "p99_ms": percentile(took, 0.99),
        "max_ms": round(max(took), 2),
        "per_s": round(len(took) / wall, 1),
    }
    logger.info("%s", row)
    return row


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks sqlite-writers", description=__doc__)
    p.add_argument("--processes", type=int, default=5, help="writer processes")
    p.add_argument("--threads", type=int, default=4, help="writer threads per process")
    p.add_argument("--transactions", type=int, default=100, help="per thread")
    p.add_argument("--think-ms", type=float, default=20.0, help="max pause between two")
    p.add_argument("--burners", type=int, default=os.cpu_count() or 2, help="CPU spinners")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per mode")
    p.add_argument("--out", type=Path, help="results directory")
    return p


def main(argv: list[str] | None = None) -> int:
    opts = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    plan = WriterPlan(opts.processes, opts.threads, opts.transactions, opts.think_ms, opts.burners)
    rows = [run_mode(queued, plan) for _ in range(opts.rounds) for queued in (False, True)]
    medians = {
        mode: {
            key: sorted(r[key] for r in rows if r["mode"] == mode)[opts.rounds // 2]
            for key in ("p50_ms", "p99_ms", "max_ms", "per_s")
        }
        for mode in MODES
    }
    result = new_result("sqlite-writers", "none", {"plan": asdict(plan), "rounds": opts.rounds})
    result["rows"] = rows
    result["medians"] = medians
    result["p99_ratio"] = round(medians[MODES[0]]["p99_ms"] / medians[MODES[1]]["p99_ms"], 1)
    result["note"] = "Writers and CPU burners share this machine; a direct measurement."
    print(f"sqlite-writers: wrote {write_result(result, opts.out)}")
    return 0
