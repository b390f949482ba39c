from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from benchmarks import cli
from benchmarks.report import write_result
from tests.unit.benchmarks.test_report import sample_result


def plan_for(*argv: str) -> cli.SuitePlan:
    opts = cli.parser().parse_args(list(argv))
    return cli.build_plan(opts.command, opts)


def test_all_is_the_default_set() -> None:
    plan = plan_for("all")
    assert plan.latency == ["planning2:1", "standup3:5", "standup3:10", "standup3:20"]
    assert plan.baseline == plan.latency
    assert plan.accuracy == ["standup3", "planning2", "panel7", "crosstalk3"]
    assert (plan.throughput_meeting, plan.concurrency) == ("planning2:1", [1, 2, 4])
    assert plan.compare_batching and plan.memory and plan.score_latency_runs


def test_long_adds_the_hour_and_eight_uploads() -> None:
    plan = plan_for("all", "--long", "--repeats", "3")
    assert plan.latency[-1] == "standup3:60"
    assert plan.concurrency == [1, 2, 4, 8]
    assert plan.latency_repeats == 3


def test_smoke_is_small() -> None:
    plan = plan_for("smoke")
    assert (plan.latency, plan.baseline, plan.accuracy) == (["planning2"], ["planning2"], [])
    assert (plan.throughput_meeting, plan.concurrency) == ("short2", [2])


def test_single_benchmarks_run_only_themselves() -> None:
    assert not plan_for("baseline").needs_platform
    assert plan_for("throughput").latency == []
    accuracy = plan_for("accuracy", "--backends", "embedded")
    assert accuracy.accuracy == ["standup3", "planning2", "panel7", "crosstalk3", "standup3:5"]
    assert accuracy.backends == ["embedded"]
    assert accuracy.latency == []
    assert plan_for("latency", "--lengths", "1", "2").latency == ["planning2:1", "standup3:2"]


def test_fanout_fails_clearly_when_the_module_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(name: str) -> types.ModuleType:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(cli.importlib, "import_module", missing)
    assert cli.main(["fanout", "--sockets", "10"]) == 2
    assert "benchmarks/fanout.py" in capsys.readouterr().err


def test_fanout_delegates_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    fake = types.ModuleType("benchmarks.fanout")

    def fake_main(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    fake.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.fanout", fake)
    assert cli.main(["fanout", "--sockets", "10", "--url", "http://x"]) == 0
    assert seen == [["--sockets", "10", "--url", "http://x"]]


def test_compare_prints_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_result(sample_result(rtf=0.2), tmp_path / "a")
    b = write_result(sample_result(rtf=0.3), tmp_path / "b")
    assert cli.main(["compare", str(a), str(b)]) == 0
    assert "| latency.standup3-5min.rtf | 0.2 | 0.3 | +50.0 % |" in capsys.readouterr().out
