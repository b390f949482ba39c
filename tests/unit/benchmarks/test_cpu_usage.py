"""The load benchmark's CPU accounting: seconds per process group between two marks, the
machine's busy and steal shares, and rounds pooled into CPU milliseconds per message."""

from __future__ import annotations

import os
import time

import pytest

from benchmarks.cpu_usage import CLIENTS_GROUP, CpuMark, mark, pooled, spent


def machine(total: float, idle: float, steal: float, iowait: float = 0.0) -> dict[str, float]:
    return {"total": total, "idle": idle, "steal": steal, "iowait": iowait}


def test_spent_is_per_group_and_counts_a_new_process_from_zero() -> None:
    before = CpuMark({1: ("Ingress", 10.0), 2: ("Ingress", 5.0), 3: ("ProxyActor", 1.0)},
                     machine(100.0, 50.0, 2.0))  # fmt: skip
    # process 3 died; process 4 (a hub shard) was born between the marks
    after = CpuMark({1: ("Ingress", 13.0), 2: ("Ingress", 6.5), 4: ("MeetingHub", 0.75)},
                    machine(120.0, 55.0, 4.0, iowait=1.0))  # fmt: skip
    got = spent(before, after)
    assert got["seconds"] == {"Ingress": 4.5, "MeetingHub": 0.75}
    assert list(got["seconds"]) == ["Ingress", "MeetingHub"]  # largest first
    # 20 s of machine time: 5 idle + 1 iowait + 2 steal -> busy 12/20
    assert got["machine_busy_share"] == pytest.approx(0.6)
    assert got["machine_steal_share"] == pytest.approx(0.1)


def test_pooled_adds_rounds_and_leaves_the_clients_out_of_the_cluster() -> None:
    one = {"seconds": {"Ingress": 3.0, CLIENTS_GROUP: 2.0},
           "machine_busy_share": 0.9, "machine_steal_share": 0.05}  # fmt: skip
    two = {"seconds": {"Ingress": 1.0, "Processor": 2.0, CLIENTS_GROUP: 1.0},
           "machine_busy_share": 0.8, "machine_steal_share": 0.0}  # fmt: skip
    got = pooled([one, two], messages=3000)
    assert got["seconds"] == {"Ingress": 4.0, CLIENTS_GROUP: 3.0, "Processor": 2.0}
    assert got["cluster_seconds"] == 6.0
    assert got["cluster_ms_per_message"] == 2.0
    assert got["round_busy_share"] == [0.9, 0.8]
    assert got["round_steal_share"] == [0.05, 0.0]


def test_mark_reads_real_processes_and_the_clients_are_this_one() -> None:
    before = mark({})
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # burn 0.2 s of this process's CPU
        pass
    after = mark({})
    assert before.processes[os.getpid()][0] == CLIENTS_GROUP
    got = spent(before, after)
    assert got["seconds"][CLIENTS_GROUP] >= 0.15
    assert 0.0 < got["machine_busy_share"] <= 1.0
    assert 0.0 <= got["machine_steal_share"] < 1.0


def test_the_report_has_a_row_per_load_row_with_cpu() -> None:
    from benchmarks.tables import cpu_usage_section

    cpu = pooled([{"seconds": {"Ingress": 3.0}, "machine_busy_share": 0.9,
                   "machine_steal_share": 0.05}], messages=1000)  # fmt: skip
    text = cpu_usage_section({"load": {"headline": [{"name": "custom", "cpu": cpu}]}})
    assert "| custom | 3.000 | 3.000 | 0.900 | 0.050 | Ingress 3.0 |" in text
    assert cpu_usage_section({"load": {"headline": [{"name": "custom"}]}}) == ""
